// The contract of one data-integrity check: what it is, how bad its findings are, the query that
// finds them and, where one exists, its fix. Checks live in activities/data-integrity/checks/, one
// per file; the runner runs them all on one read-only snapshot as bi_maintenance.
import { z } from 'zod';
import type { DatabaseTransactionConnection } from 'slonik';

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** `auto`: safe to apply unattended. `approval`: applied only after an operator approves it. */
export const FIX_CLASSES = ['auto', 'approval'] as const;
export type FixClass = (typeof FIX_CLASSES)[number];

/** What a run covers: the whole platform (tenantId null) or one tenant. */
export type IntegrityScope = { readonly tenantId: string | null };

export const findingSchema = z.object({
  /** Identifies the defect, stable across runs (the same defect found again has the same key). */
  key: z.string().min(1).max(500),
  tenantId: z.uuid().nullable(),
  summary: z.string().min(1).max(1000),
  details: z.record(z.string(), z.unknown()),
});
export type Finding = z.infer<typeof findingSchema>;

/** A check lists at most this many findings per run (queries ask for one more to detect the excess). */
export const MAX_FINDINGS_PER_CHECK = 1000;

/** A row a fix is about to change: its before-image is logged first, so an undo can restore it. */
export type RowChange = {
  readonly table: string;
  readonly keyColumn: string;
  readonly key: string;
  readonly operation: 'update' | 'delete';
  /** The columns an update changes (an undo restores just those). */
  readonly columns?: readonly string[];
};
export type LogBeforeImage = (change: RowChange) => Promise<void>;

export type IntegrityFix = {
  readonly class: FixClass;
  readonly description: string;
  /** Whether this finding has a safe fix (not every finding of a check has). */
  readonly appliesTo: (finding: Finding) => boolean;
  /** Runs in the fix's own transaction; calls logBeforeImage for every row before changing it. */
  readonly apply: (tx: DatabaseTransactionConnection, finding: Finding, logBeforeImage: LogBeforeImage) => Promise<void>;
  /** Set when the fix changes no row an undo could restore: the reason an undo is refused. */
  readonly irreversible?: string;
};

export type IntegrityCheck = {
  /** kebab-case, unique in the catalogue; part of every finding's identity. */
  readonly name: string;
  readonly severity: Severity;
  readonly description: string;
  /** Catalogue-level checks (roles, policies, constraints) have no tenant: skipped in a tenant run. */
  readonly platformOnly: boolean;
  /** Read-only: runs inside the runner's REPEATABLE READ, READ ONLY transaction. */
  readonly find: (tx: DatabaseTransactionConnection, scope: IntegrityScope) => Promise<readonly Finding[]>;
  readonly fix?: IntegrityFix;
};
