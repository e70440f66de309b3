// The reason of a failure, as workflows store it (dead letters, backup catalog, webhook results) and
// the API shows it: what the failing code threw, wherever Temporal wrapped it.
import { describe, expect, it } from '@jest/globals';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, RetryState, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { failureReason } from '../core/temporal/failure-reason.ts';

const thrown = ApplicationFailure.create({ message: 'lead_messages violates check constraint lead_messages_body_length', type: 'ConstraintViolationError' });
const activityFailure = (cause: Error) => new ActivityFailure('Activity task failed', 'ingestInbound', '1', RetryState.NON_RETRYABLE_FAILURE, 'worker', cause);

describe('failureReason', () => {
  it('reads the message the failing code threw through an activity\'s or a workflow\'s wrapping', () => {
    expect(failureReason(activityFailure(thrown))).toBe(thrown.message);
    expect(failureReason(new WorkflowFailedError('Workflow execution failed', activityFailure(thrown), RetryState.NON_RETRYABLE_FAILURE))).toBe(thrown.message);
    expect(failureReason(thrown)).toBe(thrown.message);
  });

  it('names the activity and the error type on request', () => {
    expect(failureReason(activityFailure(thrown), { origin: true }))
      .toBe('ingestInbound: ConstraintViolationError: lead_messages violates check constraint lead_messages_body_length');
    expect(failureReason(thrown, { origin: true })).toBe(`ConstraintViolationError: ${thrown.message}`);
    expect(failureReason(activityFailure(new TimeoutFailure('activity StartToClose timeout', undefined, TimeoutType.START_TO_CLOSE)), { origin: true }))
      .toBe('ingestInbound: TimeoutFailure: activity StartToClose timeout');
  });

  it('stops at the first application failure, and reads anything else as text', () => {
    const wrapped = ApplicationFailure.create({ message: 'outer', type: 'Outer', cause: new Error('inner') });
    expect(failureReason(activityFailure(wrapped))).toBe('outer');
    expect(failureReason('plain text')).toBe('plain text');
  });
});
