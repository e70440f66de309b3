// Status changes of a fix outside its apply transaction: a failure, an expiry, a verification.
import { sql, type DatabasePool } from 'slonik';
import { mapDatabaseError } from '../../core/db/map-database-error.ts';
import type { FixOutcome } from '../../core/temporal/data-integrity.ts';

// A refused constraint is named (which key, which table): what the operator needs to fix it by hand.
const failureText = (error: unknown) => {
  const mapped = mapDatabaseError(error);
  return (mapped instanceof Error ? `${mapped.name}: ${mapped.message}` : String(mapped)).slice(0, 2000);
};

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
