// Audit rows of the email routes (SMTP settings, suppressions, unsubscribes). An address appears in
// the audit trail only as its SHA-256: whoever knows the address can find its entries, the trail
// itself names nobody, and erasing a person's data leaves the trail as it is.
import { createHash } from 'node:crypto';
import { sql } from 'slonik';
import type { TenantTransaction } from '../core/db/with-tenant.ts';

export const addressDigest = (address: string) => createHash('sha256').update(address.toLowerCase()).digest('hex');

export const auditEmail = (tx: TenantTransaction, tenantId: string, actor: string, action: string, details: Record<string, unknown>) => tx.query(sql.unsafe`
  INSERT INTO audit_logs (tenant_id, actor, action, details) VALUES (${tenantId}, ${actor}, ${action}, ${sql.jsonb(details as never)})`);
