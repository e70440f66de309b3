// A tenant's WhatsApp sessions live on its bot pod's volume; a lost volume is recovered only from a
// session snapshot. The nightly backup snapshots every tenant's sessions into its own prefix
// (`backups/<id>/sessions/<tenantId>.tar.gz.enc`), a snapshot on request or at tear-down goes to
// `tenants/<id>/sessions/`. A tenant with bots whose newest snapshot of either kind is older than
// the newest complete backup was left out of that backup (its pod did not answer): after a restore
// it would come back with older sessions than every other tenant, or none.
import { sql } from 'slonik';
import { z } from 'zod';
import type { Finding, IntegrityCheck } from '../../../core/data-integrity/check.ts';
import { inScope } from './tenant-filter.ts';

/** Clocks of the object store and the database may differ by this much. */
const CLOCK_SKEW_MS = 60_000;
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const TENANT_SNAPSHOT = new RegExp(`^tenants/(${UUID})/sessions/[^/]+\\.tar\\.gz\\.enc$`);
const BACKUP_SNAPSHOT = new RegExp(`^backups/([^/]+)/sessions/(${UUID})\\.tar\\.gz\\.enc$`);

const tenantWithBots = z.object({ tenantId: z.uuid(), firstBotAt: z.number() });
const backup = z.object({ id: z.string(), startedAt: z.number() });

const iso = (ms: number) => new Date(ms).toISOString();

export const sessionSnapshotAge: IntegrityCheck = {
  name: 'session-snapshot-age',
  severity: 'critical',
  description: 'A tenant with bots whose newest session snapshot is older than the newest complete backup (or that has none).',
  platformOnly: false,
  needs: ['objects'],
  find: async (tx, scope, { objects, settledBefore }) => {
    const newestBackup = await tx.maybeOne(sql.type(backup)`
      SELECT id, started_at AS "startedAt" FROM backups WHERE status = 'complete' ORDER BY completed_at DESC LIMIT 1`);
    const tenants = await tx.any(sql.type(tenantWithBots)`
      SELECT tenant_id AS "tenantId", min(created_at) AS "firstBotAt" FROM bots
       WHERE ${inScope(scope, sql.identifier(['tenant_id']))} GROUP BY tenant_id ORDER BY tenant_id`);
    // Newest snapshot per tenant, by its object's time; one inside the newest backup is in it whatever the clocks say.
    const newest = new Map<string, number>();
    const seen = (tenantId: string, at: number) => newest.set(tenantId, Math.max(at, newest.get(tenantId) ?? -Infinity));
    for (const object of objects) {
      const own = TENANT_SNAPSHOT.exec(object.key);
      if (own !== null) seen(own[1]!, object.lastModified.getTime());
      const inBackup = BACKUP_SNAPSHOT.exec(object.key);
      if (inBackup === null) continue;
      const inNewest = newestBackup !== null && inBackup[1] === newestBackup.id;
      seen(inBackup[2]!, Math.max(object.lastModified.getTime(), inNewest ? newestBackup.startedAt : -Infinity));
    }
    // Without a complete backup (backup-age reports that) only a tenant with no snapshot at all is one.
    const due = newestBackup === null ? -Infinity : newestBackup.startedAt - CLOCK_SKEW_MS;
    // A tenant whose first bot came after the backup started could not be in it.
    const since = newestBackup?.startedAt ?? settledBefore.getTime();
    const findings: Finding[] = [];
    for (const { tenantId, firstBotAt } of tenants) {
      const at = newest.get(tenantId);
      if (firstBotAt > since || (at !== undefined && at >= due)) continue;
      findings.push({
        key: `tenant:${tenantId}`,
        tenantId,
        summary: at === undefined
          ? `tenant ${tenantId} has bots and no session snapshot`
          : `tenant ${tenantId}'s newest session snapshot (${iso(at)}) is older than the newest complete backup ${newestBackup!.id} (started ${iso(newestBackup!.startedAt)})`,
        details: { newestSnapshotAt: at === undefined ? null : iso(at), newestBackupId: newestBackup?.id ?? null },
      });
    }
    return findings;
  },
};
