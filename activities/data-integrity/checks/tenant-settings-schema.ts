// tenants.settings is validated by zod in the API, but the database's CHECKs cover only part of the
// schema: a row written around the API (a restore, a manual fix) can hold settings the platform rejects.
import { sql } from 'slonik';
import { z } from 'zod';
import type { IntegrityCheck } from '../../../core/data-integrity/check.ts';
import { MAX_FINDINGS_PER_CHECK } from '../../../core/data-integrity/check.ts';
import { tenantSettingsSchema } from '../../../core/tenant-settings.ts';
import { inScope } from './tenant-filter.ts';

const row = z.object({ tenantId: z.uuid(), settings: z.unknown() });

export const tenantSettingsInvalid: IntegrityCheck = {
  name: 'tenant-settings-schema',
  severity: 'warning',
  description: "A tenant's settings document that fails the settings schema the API enforces.",
  platformOnly: false,
  find: async (tx, scope) => {
    const rows = await tx.any(sql.type(row)`
      SELECT id AS "tenantId", settings FROM tenants WHERE ${inScope(scope, sql.identifier(['id']))} ORDER BY id`);
    return rows.flatMap(({ tenantId, settings }) => {
      const parsed = tenantSettingsSchema.safeParse(settings);
      if (parsed.success) return [];
      const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
      return [{
        key: `tenant:${tenantId}`,
        tenantId,
        summary: `tenant ${tenantId} settings fail the schema: ${issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ')}`,
        details: { issues },
      }];
    }).slice(0, MAX_FINDINGS_PER_CHECK + 1);
  },
};
