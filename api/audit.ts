// Audit rows of the API's writes to a tenant's resources: who did what to which row and, for an
// update, each field it changed as it was and as it is. Callers name only fields that hold no secret.
import { sql } from 'slonik';
import type { TenantTransaction } from '../core/db/with-tenant.ts';

export const auditResource = (tx: TenantTransaction, tenantId: string, actor: string, action: string, details: Record<string, unknown>) => tx.query(sql.unsafe`
  INSERT INTO audit_logs (tenant_id, actor, action, details) VALUES (${tenantId}, ${actor}, ${action}, ${sql.jsonb(details as never)})`);

/** `fields` of the row before and after an update, in the API's names. */
export const beforeAndAfter = (before: Record<string, unknown>, after: Record<string, unknown>, fields: readonly string[]) => ({
  before: Object.fromEntries(fields.map((field) => [field, before[field] ?? null])),
  after: Object.fromEntries(fields.map((field) => [field, after[field] ?? null])),
});
