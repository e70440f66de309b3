import { driverErrorField } from './driver-error-fields.ts';

// SQLSTATEs after which the whole transaction may simply run again.
const RETRYABLE_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

export const isRetryableTransactionError = (error: unknown): boolean => {
  const sqlState = driverErrorField(error, 'code');
  return sqlState !== undefined && RETRYABLE_SQLSTATES.has(sqlState);
};
