// What an operator reads of a failed activity or workflow. Temporal wraps what the failing code
// threw (an activity's failure in an ActivityFailure, a workflow's in a WorkflowFailedError); the
// reason is the first application failure down that cause chain, or its innermost link (a timeout,
// a cancellation). Pure and deterministic: workflow code uses it too.
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';

const thrownFailure = (error: unknown): unknown => {
  let current = error;
  while (!(current instanceof ApplicationFailure) && current instanceof Error && current.cause) current = current.cause;
  return current;
};

/**
 * The message the failing code threw. With `origin`, prefixed by the activity that failed and the
 * error's type: `ingestInbound: ConstraintViolationError: lead_messages violates check constraint ...`.
 */
export const failureReason = (error: unknown, options: { origin?: boolean } = {}): string => {
  const thrown = thrownFailure(error);
  const message = (thrown as { message?: unknown } | null | undefined)?.message;
  const text = typeof message === 'string' ? message : String(thrown);
  if (!options.origin || !(thrown instanceof Error)) return text;
  const type = thrown instanceof ApplicationFailure ? thrown.type : thrown.name;
  return `${error instanceof ActivityFailure ? `${error.activityType}: ` : ''}${type ? `${type}: ` : ''}${text}`;
};
