// Writing an enrolment: the one SQL both the API and the qualification path (the ingest) use.
// The workflow is started after the transaction commits, by the caller, with the id returned.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../db/with-tenant.ts';

const idRow = z.object({ id: z.uuid() });

/** Who enrolled a lead: the API, the lead's qualification on a bot naming the sequence, or a tenant schedule. */
export const ENROLLMENT_SOURCES = ['api', 'qualification', 'schedule'] as const;

export type NewEnrollment = {
  readonly tenantId: string; readonly sequenceId: string; readonly leadId: string; readonly address: string; readonly source: 'api' | 'qualification';
};

/**
 * The new enrolment's id, or null when the lead already has a running (active or paused) enrolment
 * in this sequence (the email_enrollments_one_running index decides, race-free).
 */
export const insertEnrollment = (tx: TenantTransaction, input: NewEnrollment): Promise<string | null> => tx.maybeOneFirst(sql.type(idRow)`
  INSERT INTO email_enrollments (tenant_id, sequence_id, lead_id, address, source)
  VALUES (${input.tenantId}, ${input.sequenceId}, ${input.leadId}, ${input.address.toLowerCase()}, ${input.source})
  ON CONFLICT (tenant_id, sequence_id, lead_id) WHERE status IN ('active', 'paused') DO NOTHING
  RETURNING id`);

/** Whether the tenant may not mail this address (bounced, unsubscribed). */
export const isSuppressed = (tx: TenantTransaction, tenantId: string, address: string): Promise<boolean> => tx.exists(sql.unsafe`
  SELECT 1 FROM email_suppressions WHERE tenant_id = ${tenantId} AND address = ${address.toLowerCase()}`);
