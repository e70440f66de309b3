// Objects under `tenants/` that nothing claims. A bot image is claimed by its bot_images row, a
// message's media by its lead_messages row (media_object_key); a
// session snapshot (`tenants/<id>/sessions/<name>.tar.gz.enc`) by being one, while its tenant
// exists: no row lists snapshots, and each is a restore point of the tenant's WhatsApp sessions.
// Everything of a tenant that no longer exists, and anything of another layout, is unclaimed.
// Objects newer than `settledBefore` are left for the next run: the API uploads an image before it
// inserts the row, so a young object's row may be committed after the snapshot was taken.
import { createHash } from 'node:crypto';
import { sql, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import type { IntegrityCheck } from '../../../core/data-integrity/check.ts';
import { MAX_FINDINGS_PER_CHECK } from '../../../core/data-integrity/check.ts';
import { TENANTS_PREFIX } from '../../../core/object-keys.ts';

const REASONS = {
  'not-a-tenant': 'is not under a tenant id',
  'tenant-missing': 'belongs to a tenant that no longer exists',
  'no-row': 'is claimed by no bot image or message row',
} as const;

const unclaimed = z.object({ key: z.string(), tenantId: z.uuid().nullable(), reason: z.enum(['not-a-tenant', 'tenant-missing', 'no-row']) });
const details = z.object({ objectKey: z.string() });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SESSION_SNAPSHOT = /^sessions\/[^/]+\.tar\.gz\.enc$/;

/** `tenants/<id>/<rest>`: the tenant id (null when the segment is not one) and whether the rest is a session snapshot. */
const parseKey = (key: string) => {
  const [, segment = '', ...rest] = key.split('/');
  return { tenantId: UUID.test(segment) ? segment : null, snapshot: SESSION_SNAPSHOT.test(rest.join('/')) };
};

/** The keys (all under `tenants/`) that nothing claims, with why, as this transaction sees the rows. */
const findUnclaimed = (tx: DatabaseTransactionConnection, keys: readonly string[]) => {
  // Parsed here, not by regular expressions in SQL: those cost ~0.2 ms a key (1 s for 5,000).
  const parsed = keys.map(parseKey);
  return tx.any(sql.type(unclaimed)`
    SELECT key, tenant_id AS "tenantId", reason FROM (
      SELECT key, tenant_id, CASE
        WHEN tenant_id IS NULL THEN 'not-a-tenant'
        WHEN NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = p.tenant_id) THEN 'tenant-missing'
        WHEN snapshot THEN NULL
        WHEN EXISTS (SELECT 1 FROM bot_images i WHERE i.tenant_id = p.tenant_id AND i.object_key = p.key) THEN NULL
        WHEN EXISTS (SELECT 1 FROM lead_messages m WHERE m.tenant_id = p.tenant_id AND m.media_object_key = p.key) THEN NULL
        ELSE 'no-row' END AS reason
        FROM unnest(${sql.array([...keys], 'text')}, ${sql.array(parsed.map((key) => key.tenantId), 'uuid')},
                    ${sql.array(parsed.map((key) => key.snapshot), 'bool')}) AS p (key, tenant_id, snapshot)
    ) judged WHERE reason IS NOT NULL ORDER BY key LIMIT ${MAX_FINDINGS_PER_CHECK + 1}`);
};

/** Stable and within the 500 characters of a finding key, however long the object key (S3 allows 1,024). */
const findingKey = (objectKey: string) =>
  objectKey.length <= 480 ? `object:${objectKey}` : `object-sha256:${createHash('sha256').update(objectKey).digest('hex')}`;

export const unclaimedObjects: IntegrityCheck = {
  name: 'unclaimed-objects',
  severity: 'warning',
  description: 'An object under tenants/ that no row claims (a session snapshot is claimed while its tenant exists).',
  platformOnly: false,
  needs: ['objects'],
  fix: {
    class: 'approval',
    description: 'Move the object to quarantine/<fixId>/ (copy, then delete); an undo moves it back.',
    appliesTo: () => true,
    apply: async (tx, finding, _logBeforeImage, effects) => {
      const { objectKey } = details.parse(finding.details);
      // Approved perhaps hours later: a row (a restore, an undo) may claim it by now.
      if ((await findUnclaimed(tx, [objectKey])).length === 0) throw new Error(`object ${objectKey} is claimed now: left in place`);
      await effects.quarantineObject(objectKey);
    },
  },
  find: async (tx, _scope, { objects, settledBefore }) => {
    const settled = objects.filter((object) => object.key.startsWith(TENANTS_PREFIX) && object.lastModified <= settledBefore);
    const byKey = new Map(settled.map((object) => [object.key, object]));
    return (await findUnclaimed(tx, settled.map((object) => object.key))).map(({ key, tenantId, reason }) => ({
      key: findingKey(key),
      tenantId,
      summary: `object ${key} ${REASONS[reason]}`.slice(0, 1000),
      details: { objectKey: key, reason, size: byKey.get(key)!.size, lastModified: byKey.get(key)!.lastModified.toISOString() },
    }));
  },
};
