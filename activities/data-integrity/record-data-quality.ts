// Counts, per tenant in the run's scope, its leads, those with an e-mail and those with a valid E.164
// phone, and stores them with the run (in the transaction that records it). Figures, not findings.
import { sql, type DatabaseTransactionConnection } from 'slonik';
import type { IntegrityScope } from '../../core/data-integrity/check.ts';
import { E164 } from '../../core/text-patterns.ts';
import { inScope } from './checks/tenant-filter.ts';

export const recordDataQuality = async (tx: DatabaseTransactionConnection, runId: string, scope: IntegrityScope): Promise<void> => {
  await tx.query(sql.unsafe`
    INSERT INTO integrity_data_quality (run_id, measured_tenant_id, leads, leads_with_email, leads_with_valid_phone)
    SELECT ${runId}, tenant_id, count(*), count(*) FILTER (WHERE email IS NOT NULL), count(*) FILTER (WHERE phone_e164 ~ ${E164.source})
      FROM leads WHERE ${inScope(scope, sql.identifier(['tenant_id']))} GROUP BY tenant_id`);
};
