import { ConstraintViolationError, InvalidTenantIdError, TenantIsolationError } from '../errors.ts';

// Errors that no retry can fix: input the database refuses, or a tenant that is not allowed.
// Activities that throw them fail at once, with the error's message as the reason. Temporal matches
// an error's `name`, which PlatformError sets to its class's name: derived here, so a renamed class
// cannot leave a stale string behind.
export const NON_RETRYABLE_PLATFORM_ERRORS = [ConstraintViolationError, InvalidTenantIdError, TenantIsolationError].map((type) => type.name);
