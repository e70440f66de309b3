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

/**
 * A row a fix is about to change: its before-image is logged first, so an undo can restore it. A row
 * the fix inserts is logged just after its insert (its image then), so an undo can delete it.
 */
export type RowChange = {
  readonly table: string;
  readonly keyColumn: string;
  /** One row, or several rows of the table (logged in one statement). */
  readonly key: string | readonly string[];
  readonly operation: 'insert' | 'update' | 'delete';
  /** The columns an update changes (an undo restores just those). */
  readonly columns?: readonly string[];
};
export type LogBeforeImage = (change: RowChange) => Promise<void>;

/** An object of the bucket, as the run's listing saw it. */
export type ListedObject = { readonly key: string; readonly lastModified: Date; readonly size: number };

/** A running lead workflow, as the run's Temporal visibility listing saw it. */
export type ListedWorkflow = {
  readonly workflowId: string;
  readonly runId: string;
  readonly startTime: Date;
  /** From the search attributes the workflow carries (TenantId, BotId, LeadId); null where unset. */
  readonly tenantId: string | null;
  readonly botId: string | null;
  readonly leadId: string | null;
};

/** What a check may read besides the database: listed once per run, right after its snapshot was taken. */
export type IntegritySource = 'objects' | 'workflows';
export type IntegritySources = {
  /** The bucket under `tenants/` (`tenants/<id>/` in a tenant run) and under `backups/`. */
  readonly objects: readonly ListedObject[];
  /** Running lead conversations (of the run's tenant in a tenant run). */
  readonly workflows: readonly ListedWorkflow[];
  /** The instant of the database snapshot. */
  readonly snapshotAt: Date;
  /**
   * An object modified, or a workflow started, after this instant may belong to rows the snapshot
   * cannot see yet (written after it was taken): checks leave those for the next run.
   */
  readonly settledBefore: Date;
};

/** What a fix may change outside the database: each is written to the fix log first, in the fix's transaction. */
export type FixEffects = {
  readonly objectExists: (key: string) => Promise<boolean>;
  /** Moves the object under the quarantine prefix (copy, then delete); an undo moves it back. */
  readonly quarantineObject: (key: string) => Promise<void>;
  /** Terminates that run of the workflow, with a reason naming the fix; an undo is refused. */
  readonly terminateWorkflow: (workflow: { workflowId: string; runId: string }, reason: string) => Promise<void>;
};

export type IntegrityFix = {
  readonly class: FixClass;
  readonly description: string;
  /** Whether this finding has a safe fix (not every finding of a check has). */
  readonly appliesTo: (finding: Finding) => boolean;
  /**
   * Runs in the fix's own transaction; calls logBeforeImage for every row before changing it, and
   * changes objects and workflows only through `effects` (which log them).
   */
  readonly apply: (tx: DatabaseTransactionConnection, finding: Finding, logBeforeImage: LogBeforeImage, effects: FixEffects) => Promise<void>;
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
  /** The listings `find` reads (none when absent); a runner without them skips the check. */
  readonly needs?: readonly IntegritySource[];
  /** Read-only: runs inside the runner's REPEATABLE READ, READ ONLY transaction. */
  readonly find: (tx: DatabaseTransactionConnection, scope: IntegrityScope, sources: IntegritySources) => Promise<readonly Finding[]>;
  readonly fix?: IntegrityFix;
};
