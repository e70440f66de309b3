// What an unsubscribe does beyond the suppression row: the address's running sequence enrolments
// stop, in the unsubscribe's own transaction (so no enrolment outlives a committed unsubscribe), and
// their workflows are woken after the commit to end now rather than at their next step. A lost
// wake-up only delays: a workflow reads its row, and the suppression list, before every send.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../core/db/with-tenant.ts';
import type { ApiDeps } from './deps.ts';
import { wakeEnrollment } from './email-sequence-workflows.ts';

/** Stops every active or paused enrolment of the address in the tenant; answers their ids. */
export const stopEnrollmentsOfAddress = async (tx: TenantTransaction, tenantId: string, address: string): Promise<readonly string[]> => tx.anyFirst(
  sql.type(z.object({ id: z.uuid() }))`
    UPDATE email_enrollments SET status = 'stopped', stop_reason = 'unsubscribed', finished_at = now(), updated_at = now()
    WHERE tenant_id = ${tenantId} AND address = ${address} AND status IN ('active', 'paused')
    RETURNING id`);

export const wakeStoppedEnrollments = async (deps: Pick<ApiDeps, 'temporal' | 'logger'>, tenantId: string, enrollmentIds: readonly string[]): Promise<void> => {
  for (const enrollmentId of enrollmentIds) await wakeEnrollment(deps, tenantId, enrollmentId, 'cancel');
};
