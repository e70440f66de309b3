// Reads fields of a Postgres driver error wherever it sits in the cause chain (slonik wraps pg's
// errors), so callers never depend on which copy of which error class was thrown.
type DriverError = Error & { code?: unknown; constraint?: unknown; table?: unknown; column?: unknown };

export const errorChain = function* (error: unknown): Generator<DriverError> {
  for (let current = error; current instanceof Error; current = current.cause) yield current as DriverError;
};

export const driverErrorField = (error: unknown, name: 'code' | 'constraint' | 'table' | 'column'): string | undefined => {
  for (const link of errorChain(error)) {
    const value = link[name];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
};
