import {
  CheckExclusionConstraintViolationError,
  CheckIntegrityConstraintViolationError,
  ForeignKeyIntegrityConstraintViolationError,
  IntegrityConstraintViolationError,
  NotNullIntegrityConstraintViolationError,
  UniqueIntegrityConstraintViolationError,
} from 'slonik';
import { ConstraintViolationError, TenantIsolationError, type ConstraintKind } from '../errors.ts';
import { isRowLevelSecurityViolation } from './transient-errors.ts';

const constraintKind = (error: IntegrityConstraintViolationError): ConstraintKind => {
  if (error instanceof UniqueIntegrityConstraintViolationError) return 'unique';
  if (error instanceof ForeignKeyIntegrityConstraintViolationError) return 'foreign_key';
  if (error instanceof CheckIntegrityConstraintViolationError) return 'check';
  if (error instanceof NotNullIntegrityConstraintViolationError) return 'not_null';
  if (error instanceof CheckExclusionConstraintViolationError) return 'exclusion';
  return 'check';
};

/** Turns driver errors the caller can act on into the platform's typed errors; others pass through. */
export const mapDatabaseError = (error: unknown): unknown => {
  if (error instanceof IntegrityConstraintViolationError) {
    const constraint = error.constraint ?? error.column ?? 'unknown';
    return new ConstraintViolationError(constraintKind(error), constraint, error.table ?? undefined, error);
  }
  if (isRowLevelSecurityViolation(error)) return new TenantIsolationError(error);
  return error;
};
