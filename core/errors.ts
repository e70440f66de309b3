// Typed errors shared by every process. Each keeps its cause, so a log shows the original failure.

export class PlatformError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export class ConfigError extends PlatformError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('CONFIG_INVALID', `Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

export class InvalidTenantIdError extends PlatformError {
  constructor(value: unknown) {
    // The rejected value is not echoed back: it is attacker-controlled text.
    super('TENANT_ID_INVALID', `Tenant id must be a UUID (got a ${typeof value} of length ${String(value).length})`);
  }
}

export type ConstraintKind = 'unique' | 'foreign_key' | 'check' | 'not_null' | 'exclusion';

/** A row refused by a database constraint; `constraint` is the constraint's name in the schema. */
export class ConstraintViolationError extends PlatformError {
  readonly kind: ConstraintKind;
  readonly constraint: string;
  readonly table: string | undefined;
  constructor(kind: ConstraintKind, constraint: string, table: string | undefined, cause: unknown) {
    super(`CONSTRAINT_${kind.toUpperCase()}`, `${table ?? 'row'} violates ${kind} constraint ${constraint}`, { cause });
    this.kind = kind;
    this.constraint = constraint;
    this.table = table;
  }
}

/** Row-level security refused a write (the row is not the current tenant's). */
export class TenantIsolationError extends PlatformError {
  constructor(cause: unknown) {
    super('TENANT_ISOLATION', 'The row is outside the current tenant', { cause });
  }
}

export class TransactionRetriesExhaustedError extends PlatformError {
  readonly attempts: number;
  constructor(attempts: number, cause: unknown) {
    super('TX_RETRIES_EXHAUSTED', `Transaction failed after ${attempts} attempts (serialization failure or deadlock)`, { cause });
    this.attempts = attempts;
  }
}

export class MigrationError extends PlatformError {}
