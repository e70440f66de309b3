// The erasure log (data_subject_erasures): a request holds the person's identifier only until its
// erasure completes; then it keeps a salted hash of it, the counts and who asked, so the request
// stays auditable and a restore can re-apply it (docs/data-subject.md, "Backups").
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../db/with-tenant.ts';
import { dataSubjectBody, dataSubjectOf, newSalt, subjectHash, type DataSubject, type DataSubjectBody } from './subject.ts';
import type { ErasureCounts } from './erase.ts';

export const ERASURE_ACTOR = 'data-subject-erasure';

const TIME = (column: string) => sql.fragment`to_char(${sql.identifier([column])} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export const erasureRequest = z.object({
  requestId: z.uuid(),
  status: z.enum(['pending', 'completed']),
  subjectHash: z.string(),
  salt: z.string(),
  counts: z.record(z.string(), z.number().int()).nullable(),
  requestedBy: z.string(),
  requestedAt: z.string(),
  completedAt: z.string().nullable(),
});
export type ErasureRequest = z.infer<typeof erasureRequest>;

const COLUMNS = sql.fragment`id AS "requestId", status, subject_hash AS "subjectHash", salt, counts, requested_by AS "requestedBy",
  ${TIME('requested_at')} AS "requestedAt", ${TIME('completed_at')} AS "completedAt"`;

/** Records a request; its workflow erases later. */
export const recordErasureRequest = async (
  tx: TenantTransaction, tenantId: string, request: { requestId: string; body: DataSubjectBody; subject: DataSubject; requestedBy: string },
): Promise<ErasureRequest> => {
  const salt = newSalt();
  return tx.one(sql.type(erasureRequest)`
    INSERT INTO data_subject_erasures (id, tenant_id, subject, subject_hash, salt, requested_by)
    VALUES (${request.requestId}, ${tenantId}, ${sql.jsonb(request.body)}, ${subjectHash(salt, request.subject.canonical)}, ${salt}, ${request.requestedBy})
    RETURNING ${COLUMNS}`);
};

export const readErasureRequest = (tx: TenantTransaction, tenantId: string, requestId: string): Promise<ErasureRequest | null> =>
  tx.maybeOne(sql.type(erasureRequest)`SELECT ${COLUMNS} FROM data_subject_erasures WHERE tenant_id = ${tenantId} AND id = ${requestId}`);

export class ErasureRequestNotFoundError extends Error {}

const pending = erasureRequest.extend({ subject: dataSubjectBody.nullable() });

/** The request, locked for this transaction, with the person's identifier while it is pending. */
export const lockErasureRequest = async (tx: TenantTransaction, tenantId: string, requestId: string): Promise<{ request: ErasureRequest; subject: DataSubject | null }> => {
  const row = await tx.maybeOne(sql.type(pending)`
    SELECT ${COLUMNS}, subject FROM data_subject_erasures WHERE tenant_id = ${tenantId} AND id = ${requestId} FOR UPDATE`);
  // Retried by the activity: the API starts the workflow before its transaction commits.
  if (row === null) throw new ErasureRequestNotFoundError(`erasure request ${requestId} of tenant ${tenantId} not found (not committed yet, or never)`);
  const { subject, ...request } = row;
  return { request, subject: subject === null ? null : dataSubjectOf(subject) };
};

/** Completes the request: the identifier is dropped, the counts kept; the audit log records it without personal data. */
export const completeErasureRequest = async (tx: TenantTransaction, tenantId: string, request: ErasureRequest, counts: ErasureCounts): Promise<void> => {
  await tx.query(sql.unsafe`
    UPDATE data_subject_erasures SET status = 'completed', subject = NULL, counts = ${sql.jsonb(counts)}, completed_at = now()
     WHERE tenant_id = ${tenantId} AND id = ${request.requestId}`);
  await tx.query(sql.unsafe`
    INSERT INTO audit_logs (tenant_id, actor, action, details)
    VALUES (${tenantId}, ${ERASURE_ACTOR}, 'data-subject.erased', ${sql.jsonb({
      requestId: request.requestId, subjectHash: request.subjectHash, salt: request.salt, requestedBy: request.requestedBy, counts,
    })})`);
};
