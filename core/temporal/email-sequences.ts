// The contracts of the email sequence workflow and its activities. Workflow code imports this
// file: only types and plain values here (see core/email-sequences/step-message.ts).
import type { ActivityOptions } from '@temporalio/common';
import type { StepMessage } from '../email-sequences/step-message.ts';
import { NON_RETRYABLE_PLATFORM_ERRORS } from './retry.ts';

export type { StepMessage };

/** What became of a send: mailed now, mailed by an earlier attempt, or not mailed (the address is suppressed). */
export type StepSendResult =
  | { readonly outcome: 'sent' | 'already-sent'; readonly messageId: string }
  | { readonly outcome: 'suppressed'; readonly messageId: string };

/** One workflow per enrolment: a second start of the same enrolment is a no-op. */
export const EMAIL_SEQUENCE_WORKFLOW = 'emailSequence';
export const emailSequenceWorkflowId = (tenantId: string, enrollmentId: string): string => `email-sequence/${tenantId}/${enrollmentId}`;

/** Signals of the enrolment workflow. The API writes the status first; a signal only wakes the workflow. */
export const EMAIL_SEQUENCE_SIGNALS = { pause: 'pause', resume: 'resume', cancel: 'cancel' } as const;

export type EnrollmentRef = { readonly tenantId: string; readonly enrollmentId: string };

export const STOP_REASONS = ['replied', 'stage-reached', 'unsubscribed', 'bounced', 'sequence-inactive', 'sequence-deleted', 'send-failed'] as const;
export type StopReason = (typeof STOP_REASONS)[number];

/** How an enrolment ended: its row's final status, or `deleted` when the row is gone (its lead erased). */
export type EnrollmentEnd =
  | { readonly status: 'completed' | 'cancelled' | 'deleted' }
  | { readonly status: 'stopped'; readonly reason: StopReason };

/** The next step's wait, read when the previous step was sent (or at enrolment); or the end. */
export type StepWait =
  | { readonly kind: 'wait'; readonly step: number; readonly delaySeconds: number }
  | { readonly kind: 'end'; readonly end: EnrollmentEnd };

/** Right before a send: the rendered step, or hold (paused in the table), or the end (a stop condition). */
export type StepPlan =
  | { readonly kind: 'send'; readonly message: StepMessage }
  | { readonly kind: 'hold' }
  | { readonly kind: 'end'; readonly end: EnrollmentEnd };

/** A send refused for good: the address bounced (suppressed by the send activity). */
export const EMAIL_BOUNCED = 'EmailAddressBounced';

// The retry policies of the enrolment workflow's activities, in one place.
/** Reads and writes of the enrolment: short transactions, retried through a database restart. */
export const ENROLLMENT_ACTIVITY_OPTIONS = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE_PLATFORM_ERRORS },
} satisfies ActivityOptions;
/**
 * The send: a temporary SMTP refusal (4xx, no connection; SmtpTemporaryFailure) backs off from 30 s
 * to an hour between tries, for up to 3 days; a permanent one is not retried.
 */
export const SEND_STEP_ACTIVITY_OPTIONS = {
  // Above the SMTP client's own timeouts (10 s to connect, 10 s greeting, 30 s idle socket), and
  // short, so a send lost with a dead worker is retried within a minute.
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '3 days',
  retry: {
    initialInterval: '30 seconds', backoffCoefficient: 2, maximumInterval: '1 hour',
    nonRetryableErrorTypes: [EMAIL_BOUNCED, 'SmtpSenderRefused', 'InvalidEmailStep', ...NON_RETRYABLE_PLATFORM_ERRORS],
  },
} satisfies ActivityOptions;

/** A paused enrolment looks at its row again this often, in case a resume signal was lost. */
export const PAUSED_RECHECK = '1 day';
