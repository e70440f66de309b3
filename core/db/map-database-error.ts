import { driverErrorField as field, errorChain } from './driver-error-fields.ts';
import { ConstraintViolationError, TenantIsolationError, type ConstraintKind } from '../errors.ts';

// Integrity SQLSTATEs, read from the error chain rather than by class, so it holds whichever copy
// of the driver's error classes threw.
const CONSTRAINT_KINDS: Record<string, ConstraintKind> = {
  '23505': 'unique',
  '23503': 'foreign_key',
  '23514': 'check',
  '23502': 'not_null',
  '23P01': 'exclusion',
};

/** Turns driver errors the caller can act on into the platform's typed errors; others pass through. */
export const mapDatabaseError = (error: unknown): unknown => {
  const code = field(error, 'code');
  const kind = code === undefined ? undefined : CONSTRAINT_KINDS[code];
  if (kind) {
    const constraint = field(error, 'constraint') ?? field(error, 'column') ?? 'unknown';
    return new ConstraintViolationError(kind, constraint, field(error, 'table'), error);
  }
  // 42501 is also "permission denied"; only a policy refusal is a tenant-isolation error.
  if (code === '42501' && [...errorChain(error)].some((link) => link.message.includes('row-level security'))) {
    return new TenantIsolationError(error);
  }
  return error;
};
