// Errors that no retry can fix: input the database refuses, or a tenant that is not allowed.
// Activities that throw them fail at once, with the error's message as the reason.
export const NON_RETRYABLE_PLATFORM_ERRORS = ['ConstraintViolationError', 'InvalidTenantIdError', 'TenantIsolationError'];
