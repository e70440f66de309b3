// Counts, per tenant in the run's scope, its leads, those with an e-mail and those with a valid E.164
// phone, and stores them with the run (in the transaction that records it). Figures, not findings.
import { sql, type DatabaseTransactionConnection } from 'slonik';
import type { IntegrityScope } from '../../core/data-integrity/check.ts';
import { E164 } from '../../core/text-patterns.ts';
import { inScope } from './checks/tenant-filter.ts';

/** Whether the database has proven every stored phone E.164 (its CHECK is there and validated). */
const phoneFormatHolds = (tx: DatabaseTransactionConnection) => tx.exists(sql.unsafe`
  SELECT 1 FROM pg_constraint WHERE conrelid = 'public.leads'::regclass AND conname = 'leads_phone_e164_format' AND contype = 'c' AND convalidated`);

export const recordDataQuality = async (tx: DatabaseTransactionConnection, runId: string, scope: IntegrityScope): Promise<void> => {
  // Matching a pattern on every phone is most of this count's cost (1M leads): skipped while the CHECK holds.
  const validPhone = await phoneFormatHolds(tx) ? sql.fragment`phone_e164 IS NOT NULL` : sql.fragment`phone_e164 ~ ${E164.source}`;
  await tx.query(sql.unsafe`
    INSERT INTO integrity_data_quality (run_id, measured_tenant_id, leads, leads_with_email, leads_with_valid_phone)
    SELECT ${runId}, tenant_id, count(*), count(email), count(*) FILTER (WHERE ${validPhone})
      FROM leads WHERE ${inScope(scope, sql.identifier(['tenant_id']))} GROUP BY tenant_id`);
};
