// Enrolment on qualification, inside the ingest's transaction: a lead that qualifies on a bot that
// names a sequence (bots.email_sequence_id), and that has an address not suppressed, is enrolled in
// the same transaction that qualifies it. The lead conversation starts the workflow after the commit.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../../core/db/with-tenant.ts';
import { insertEnrollment, isSuppressed } from '../../core/email-sequences/enroll.ts';

const sequenceOfBot = z.object({ sequence_id: z.uuid() });
const enrollmentOfLead = z.object({ id: z.uuid() });

export type QualifiedLead = {
  readonly tenantId: string; readonly botId: string; readonly leadId: string; readonly email: string | null;
  /** False for a duplicate delivery of the qualifying message (a retried ingest): it finds what the first attempt wrote. */
  readonly becameQualified: boolean;
};

/** The enrolment to start, or null (no sequence, no usable address, or already running). */
export const enrolOnQualification = async (tx: TenantTransaction, lead: QualifiedLead): Promise<string | null> => {
  if (lead.email === null) return null;
  const bot = await tx.maybeOne(sql.type(sequenceOfBot)`
    SELECT s.id AS sequence_id FROM bots b JOIN email_sequences s ON s.tenant_id = b.tenant_id AND s.id = b.email_sequence_id
    WHERE b.tenant_id = ${lead.tenantId} AND b.id = ${lead.botId} AND s.active`);
  if (!bot) return null;
  if (!lead.becameQualified) {
    return tx.maybeOneFirst(sql.type(enrollmentOfLead)`
      SELECT id FROM email_enrollments
      WHERE tenant_id = ${lead.tenantId} AND lead_id = ${lead.leadId} AND sequence_id = ${bot.sequence_id} AND source = 'qualification'
      ORDER BY enrolled_at DESC LIMIT 1`);
  }
  if (await isSuppressed(tx, lead.tenantId, lead.email)) return null;
  return insertEnrollment(tx, { tenantId: lead.tenantId, sequenceId: bot.sequence_id, leadId: lead.leadId, address: lead.email, source: 'qualification' });
};
