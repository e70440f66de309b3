// Temporal fails an activity at once when the thrown error's `name` is in the workflow's
// nonRetryableErrorTypes: the list must hold exactly the names the platform's errors carry.
import { describe, expect, it } from '@jest/globals';
import { ConstraintViolationError, InvalidTenantIdError, TenantIsolationError } from '../core/errors.ts';
import { NON_RETRYABLE_PLATFORM_ERRORS } from '../core/temporal/retry.ts';

describe('NON_RETRYABLE_PLATFORM_ERRORS', () => {
  it('holds the names the thrown errors carry', () => {
    const thrown = [
      new ConstraintViolationError('check', 'lead_messages_body_length', 'lead_messages', undefined),
      new InvalidTenantIdError('nope'),
      new TenantIsolationError(undefined),
    ];
    expect(NON_RETRYABLE_PLATFORM_ERRORS).toEqual(thrown.map((error) => error.name));
    expect(NON_RETRYABLE_PLATFORM_ERRORS).toEqual(['ConstraintViolationError', 'InvalidTenantIdError', 'TenantIsolationError']);
  });
});
