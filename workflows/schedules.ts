// Tenant schedules: the sync that follows every write of a row, the daily reconcile, and what a
// firing runs.
import {
  ActivityFailure, ApplicationFailure, continueAsNew, defineSignal, proxyActivities, proxyLocalActivities, setHandler, sleep, TimeoutFailure, workflowInfo,
} from '@temporalio/workflow';
import type { ScheduleActivities } from '../activities/schedules/index.ts';
import { botPodTaskQueue, type BotPodActivities } from '../core/temporal/bot-pod.ts';
import { failureReason } from '../core/temporal/failure-reason.ts';
import { NON_RETRYABLE_PLATFORM_ERRORS } from '../core/temporal/retry.ts';
import {
  FOLLOW_UP_BATCH_SIZE, SCHEDULE_CHANGED_SIGNAL, type FollowUpPlan, type ScheduledRunInput, type ScheduledRunResult, type ScheduleReconcileResult,
  type ScheduleRef, type ScheduleSyncOutcome,
} from '../core/temporal/schedules.ts';

const schedules = proxyActivities<ScheduleActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: [...NON_RETRYABLE_PLATFORM_ERRORS] },
});
// Starts one workflow per enrolment, up to a segment's 10,000: long, so it heartbeats.
const enrolment = proxyActivities<ScheduleActivities>({
  startToCloseTimeout: '30 minutes', heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', nonRetryableErrorTypes: [...NON_RETRYABLE_PLATFORM_ERRORS] },
});
const reconcile = proxyActivities<ScheduleActivities>({
  startToCloseTimeout: '1 hour', heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_PLATFORM_ERRORS] },
});

// Claiming a lead and recording its send are short, idempotent transactions: local activities, so
// a send costs no round trip through the server for them (and fewer history events).
const local = proxyLocalActivities<ScheduleActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds', nonRetryableErrorTypes: [...NON_RETRYABLE_PLATFORM_ERRORS] },
});

export const scheduleChangedSignal = defineSignal(SCHEDULE_CHANGED_SIGNAL);

/**
 * `schedule-sync/<tenantId>/<scheduleId>`, signalled with start on every write of the row: syncs
 * until no write came in during the last sync, so the Schedule ends as the row's last write says.
 */
export async function syncTenantSchedule(ref: ScheduleRef): Promise<ScheduleSyncOutcome> {
  let pending = true;
  setHandler(scheduleChangedSignal, () => { pending = true; });
  let outcome: ScheduleSyncOutcome = 'absent';
  // A signal that comes while the workflow completes makes the server refuse the completion and
  // replay with the signal: the loop then runs once more.
  while (pending) {
    pending = false;
    outcome = await schedules.syncScheduleRow(ref);
  }
  return outcome;
}

/** Daily, Schedule `schedules-reconcile-daily`: repairs drift between the table and Temporal. */
export async function reconcileTenantSchedules(): Promise<ScheduleReconcileResult> {
  return reconcile.reconcileScheduleRows();
}

/** A run continues as new past this many history events, so a firing of 10,000 leads stays small. */
const FOLLOW_UP_HISTORY_EVENTS = 2_000;

/** A bot pod that fails a send this way is not serving the bot: no later lead would get through either. */
const POD_FAULTS = ['UnknownBot', 'WrongTenant'];

const podIsDown = (error: ActivityFailure) => error.cause instanceof TimeoutFailure
  || (error.cause instanceof ApplicationFailure && POD_FAULTS.includes(error.cause.type ?? ''));

/**
 * What a tenant Schedule starts at each firing: records it, then runs its action. An e-mail
 * enrolment enrols the segment and starts each enrolment's workflow in one activity. A WhatsApp
 * follow-up resolves its segment into rows once, then sends to each pending lead through the
 * tenant's bot pod, one send per `intervalMs` (a durable timer), continuing as new as its history grows.
 */
export async function scheduledTenantRun(input: ScheduledRunInput): Promise<ScheduledRunResult> {
  const firingId = workflowInfo().workflowId;
  const ref = { tenantId: input.tenantId, scheduleId: input.scheduleId, botId: input.botId, firingId };
  let plan = input.followUp;
  if (plan === undefined) {
    const firing = await schedules.recordScheduleFiring(input);
    if (!firing.fired) return { fired: false };
    if (firing.actionType === 'email_enrollment') return { fired: true, emailEnrollment: await enrolment.enrollScheduleSegment(ref) };
    const resolved = await schedules.resolveFollowUp({ ...ref });
    if (resolved.plan === null) {
      return { fired: true, followUp: { ...await schedules.finishFollowUp({ ...ref, sentNow: 0, truncated: false, stoppedBecause: resolved.skippedReason }), sentNow: 0 } };
    }
    plan = resolved.plan;
  }
  const { sentNow, podDown } = await sendFollowUps(ref, plan, input.sentBefore ?? 0);
  const counts = await schedules.finishFollowUp({ ...ref, sentNow, truncated: plan.truncated, stoppedBecause: podDown });
  if (podDown !== null) throw ApplicationFailure.nonRetryable(podDown, 'BotPodUnavailable');
  return { fired: true, followUp: { ...counts, sentNow } };
}

/** Sends to the firing's pending leads: how many it sent, and why it stopped when the bot pod could not be reached. */
const sendFollowUps = async (
  ref: ScheduleRef & { botId: string; firingId: string }, plan: FollowUpPlan, sentBefore: number,
): Promise<{ sentNow: number; podDown: string | null }> => {
  const { sendText } = proxyActivities<BotPodActivities>({
    taskQueue: botPodTaskQueue(ref.tenantId),
    startToCloseTimeout: '30 seconds',
    scheduleToCloseTimeout: `${plan.sendTimeoutSeconds} seconds`,
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
  });
  let sent = sentBefore;
  for (;;) {
    const leads = await schedules.nextFollowUps({ ...ref, message: plan.message, limit: FOLLOW_UP_BATCH_SIZE });
    if (leads.length === 0) return { sentNow: sent, podDown: null };
    for (const lead of leads) {
      // Opted out, or the bot paused, since the batch was read: nothing is sent, so no pause either.
      if (!await local.claimFollowUp({ ...ref, leadId: lead.leadId })) continue;
      try {
        // Keyed by (firing, lead): a send the pod already made returns that message, it is not sent again.
        const message = await sendText({
          tenantId: ref.tenantId, botId: ref.botId, toWaId: lead.waId, toJid: lead.toJid, text: lead.text, idempotencyKey: `follow-up:${ref.firingId}:${lead.leadId}`,
        });
        await local.recordFollowUpSent({ ...ref, leadId: lead.leadId, waMessageId: message.waMessageId, text: lead.text });
        sent += 1;
      } catch (error) {
        if (!(error instanceof ActivityFailure) || error.activityType !== 'sendText') throw error;
        if (podIsDown(error)) {
          const podDown = `the bot pod of tenant ${ref.tenantId} did not send to lead ${lead.leadId} within ${plan.sendTimeoutSeconds} s `
            + `(is it running, is bot ${ref.botId} connected?): ${failureReason(error, { origin: true })}; ${sent} sent, the rest not sent`;
          return { sentNow: sent, podDown };
        }
        await local.recordFollowUpFailed({ ...ref, leadId: lead.leadId, reason: failureReason(error, { origin: true }) });
      }
      // The bot's number sends at most one message per interval, whatever the outcome of this one.
      await sleep(plan.intervalMs);
    }
    if (workflowInfo().historyLength > FOLLOW_UP_HISTORY_EVENTS || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof scheduledTenantRun>({ tenantId: ref.tenantId, scheduleId: ref.scheduleId, botId: ref.botId, followUp: plan, sentBefore: sent });
    }
  }
};
