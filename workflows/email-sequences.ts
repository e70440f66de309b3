// One enrolment of a lead in an email sequence, `email-sequence/<tenantId>/<enrollmentId>`: waits
// on durable timers between steps, checks the stop conditions right before each send, and obeys
// pause, resume and cancel. The row in email_enrollments is the truth (the API writes pause, resume
// and cancel there before it signals); a signal only wakes the workflow sooner.
import { ActivityFailure, ApplicationFailure, condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { EnrollmentActivities } from '../activities/email-sequences/enrollment.ts';
import type { EmailSequenceActivities } from '../activities/email-sequences/send-step.ts';
import {
  EMAIL_BOUNCED, EMAIL_SEQUENCE_SIGNALS, ENROLLMENT_ACTIVITY_OPTIONS, PAUSED_RECHECK, SEND_STEP_ACTIVITY_OPTIONS,
  type EnrollmentEnd, type EnrollmentRef, type StepSendResult,
} from '../core/temporal/email-sequences.ts';
import { failureReason } from '../core/temporal/failure-reason.ts';

const enrollment = proxyActivities<EnrollmentActivities>(ENROLLMENT_ACTIVITY_OPTIONS);
const { sendEmailStep } = proxyActivities<EmailSequenceActivities>(SEND_STEP_ACTIVITY_OPTIONS);

export const pauseEnrollmentSignal = defineSignal(EMAIL_SEQUENCE_SIGNALS.pause);
export const resumeEnrollmentSignal = defineSignal(EMAIL_SEQUENCE_SIGNALS.resume);
export const cancelEnrollmentSignal = defineSignal(EMAIL_SEQUENCE_SIGNALS.cancel);

/**
 * The send, with a permanent refusal of the address (bounced, now suppressed) as an answer; any other
 * send that failed for good (the sender refused, or refusals for the whole retry window) as its reason.
 */
const send = async (message: Parameters<typeof sendEmailStep>[0]): Promise<StepSendResult | 'bounced' | { failed: string }> => {
  try {
    return await sendEmailStep(message);
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    if (error.cause instanceof ApplicationFailure && error.cause.type === EMAIL_BOUNCED) return 'bounced';
    return { failed: failureReason(error, { origin: true }) };
  }
};

export async function emailSequence(ref: EnrollmentRef): Promise<EnrollmentEnd> {
  let paused = false;
  let cancelled = false;
  setHandler(pauseEnrollmentSignal, () => { paused = true; });
  setHandler(resumeEnrollmentSignal, () => { paused = false; });
  setHandler(cancelEnrollmentSignal, () => { cancelled = true; });
  const end = (outcome: EnrollmentEnd) => enrollment.finishEnrollment({ ...ref, end: outcome });

  // Each step's delay counts from the previous step's send (workflow time), the first's from the enrolment.
  let sentAt = Date.now();
  let step = 0;
  for (;;) {
    const wait = await enrollment.enrollmentStepWait({ ...ref, step });
    if (wait.kind === 'end') return wait.end;
    step = wait.step;
    const dueAt = sentAt + wait.delaySeconds * 1000;
    for (;;) {
      if (cancelled) return end({ status: 'cancelled' });
      if (paused) {
        // Looks at the row again now and then: a resume whose signal was lost still resumes.
        if (!await condition(() => !paused || cancelled, PAUSED_RECHECK)) paused = false;
        continue;
      }
      const left = dueAt - Date.now();
      if (left <= 0) break;
      await condition(() => paused || cancelled, left);
    }
    const plan = await enrollment.prepareEnrollmentStep({ ...ref, step });
    if (plan.kind === 'end') return plan.end;
    if (plan.kind === 'hold') {
      paused = true;
      continue;
    }
    const sent = await send(plan.message);
    if (sent === 'bounced') return end({ status: 'stopped', reason: 'bounced' });
    if ('failed' in sent) {
      // The row ends too: an enrolment whose workflow failed must not read as running.
      await end({ status: 'stopped', reason: 'send-failed' });
      throw ApplicationFailure.nonRetryable(`step ${step} of enrolment ${ref.enrollmentId} was not sent: ${sent.failed}`, 'EmailStepNotSent');
    }
    // Suppressed since the check (an unsubscribe in between): the next check ends the enrolment with its reason.
    if (sent.outcome === 'suppressed') continue;
    await enrollment.recordEnrollmentStepSent({ ...ref, step });
    sentAt = Date.now();
    step += 1;
  }
}
