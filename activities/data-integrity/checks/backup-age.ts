// The safety net itself: a platform without a recent backup, or whose backups no drill has restored
// lately, cannot recover from what the other checks find. Thresholds follow docs/backups.md: the
// nightly backup plus slack (26 h), the weekly drill plus a day (8 days).
import { sql } from 'slonik';
import { z } from 'zod';
import type { Finding, IntegrityCheck } from '../../../core/data-integrity/check.ts';

export const BACKUP_MAX_AGE_HOURS = 26;
export const DRILL_MAX_AGE_DAYS = 8;

const newest = z.object({
  backupId: z.string().nullable(), backupAt: z.number().nullable(), backupStale: z.boolean(),
  drillId: z.uuid().nullable(), drillAt: z.number().nullable(), drillStale: z.boolean(),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const backupAge: IntegrityCheck = {
  name: 'backup-age',
  severity: 'critical',
  description: `The newest complete backup is under ${BACKUP_MAX_AGE_HOURS} h old and the last passed restore drill under ${DRILL_MAX_AGE_DAYS} days.`,
  platformOnly: true,
  find: async (tx) => {
    // Ages by the database clock, at the snapshot's instant; no row at all is stale too.
    const { backupId, backupAt, backupStale, drillId, drillAt, drillStale } = await tx.one(sql.type(newest)`
      SELECT b.id AS "backupId", b.completed_at AS "backupAt",
             coalesce(b.completed_at < now() - make_interval(hours => ${BACKUP_MAX_AGE_HOURS}), true) AS "backupStale",
             d.id AS "drillId", d.finished_at AS "drillAt",
             coalesce(d.finished_at < now() - make_interval(days => ${DRILL_MAX_AGE_DAYS}), true) AS "drillStale"
        FROM (SELECT 1) AS one
        LEFT JOIN LATERAL (SELECT id, completed_at FROM backups WHERE status = 'complete' ORDER BY completed_at DESC LIMIT 1) b ON true
        LEFT JOIN LATERAL (SELECT id, finished_at FROM backup_drills WHERE passed ORDER BY finished_at DESC LIMIT 1) d ON true`);
    const findings: Finding[] = [];
    // Stable keys: the same gap is one defect however long it lasts (and is alerted once).
    if (backupStale) {
      findings.push({
        key: 'newest-backup', tenantId: null,
        summary: backupId === null ? 'no complete backup exists' : `the newest complete backup ${backupId} completed at ${iso(backupAt)}, over ${BACKUP_MAX_AGE_HOURS} h ago`,
        details: { backupId, completedAt: iso(backupAt), maxAgeHours: BACKUP_MAX_AGE_HOURS },
      });
    }
    if (drillStale) {
      findings.push({
        key: 'last-passed-drill', tenantId: null,
        summary: drillId === null ? 'no restore drill has passed' : `the last passed restore drill ${drillId} finished at ${iso(drillAt)}, over ${DRILL_MAX_AGE_DAYS} days ago`,
        details: { drillId, finishedAt: iso(drillAt), maxAgeDays: DRILL_MAX_AGE_DAYS },
      });
    }
    return findings;
  },
};
