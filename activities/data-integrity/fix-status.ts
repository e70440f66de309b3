// Status changes of a fix outside its apply transaction: a failure, an expiry, a verification.
import { sql, type DatabasePool } from 'slonik';
import type { FixOutcome } from '../../core/temporal/data-integrity.ts';

const failureText = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 2000);

/** Marks a still-planned fix failed (its transaction rolled back: nothing of it was applied). */
export const recordFixFailure = async (maintenance: DatabasePool, fixId: string, error: unknown): Promise<FixOutcome> => {
  const failure = failureText(error);
  await maintenance.query(sql.unsafe`UPDATE integrity_fixes SET status = 'failed', failure = ${failure} WHERE id = ${fixId} AND status = 'planned'`);
  return { fixId, status: 'failed', failure };
};

/** Planned `approval` fixes that were not approved in time are never applied. */
export const expireFixes = async (maintenance: DatabasePool, fixIds: readonly string[]): Promise<void> => {
  await maintenance.query(sql.unsafe`
    UPDATE integrity_fixes SET status = 'expired' WHERE id = ANY(${sql.array([...fixIds], 'uuid')}) AND status = 'planned'`);
};
