import {
  CancelledFailure, condition, continueAsNew, defineSignal, log, patched, proxyActivities, proxyLocalActivities, setHandler,
  TemporalFailure, upsertMemo, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import type { DeadLetterActivities } from '../activities/dead-letters.ts';
import type { ChatComposerActivities } from '../activities/lead-conversation/chat-composer.ts';
import type { LeadIngestActivities } from '../activities/lead-conversation/ingest.ts';
import { botPodTaskQueue, type BotPodActivities } from '../core/temporal/bot-pod.ts';
import { INBOUND_SIGNAL, type InboundMessage, type IngestResult, type LeadConversationInput } from '../core/temporal/lead-conversation.ts';
import { failureReason } from '../core/temporal/failure-reason.ts';
import { NON_RETRYABLE_PLATFORM_ERRORS } from '../core/temporal/retry.ts';
import { BOT_ID, LEAD_ID, TENANT_ID } from '../core/temporal/search-attributes.ts';
import { startEmailSequence } from './start-email-sequence.ts';
import { startOwnerNotification } from './start-owner-notification.ts';

export const inboundSignal = defineSignal<[InboundMessage]>(INBOUND_SIGNAL);

/** Runs started before dead letters existed replay without them; every new run has them. */
const DEAD_LETTER_PATCH = 'lead-conversation-dead-letters';
/** Runs recorded with one memo upsert per message replay with it; new runs upsert once the queue drains. */
const MEMO_WHEN_DRAINED_PATCH = 'lead-conversation-memo-when-drained';
/**
 * New runs take the dead-letter and memo-when-drained paths under this one patch, and keep the
 * tenant and bot search attributes their starter set: each patch and each upsert is an event and
 * a visibility write on the server (a patch upserts TemporalChangeVersion), two less per new lead.
 */
const LEAN_START_PATCH = 'lead-conversation-lean-start';
/** New runs schedule a qualifying message's reply in the task that starts its children (owner notification, email sequence). */
const REPLY_BESIDE_CHILD_STARTS_PATCH = 'lead-conversation-reply-beside-child-starts';
/** New runs record a reply with the next message's ingest when that message is already queued. */
const RECORD_WITH_NEXT_INGEST_PATCH = 'lead-conversation-record-with-next-ingest';
/**
 * New runs continue as new from a task that runs no local activity. A message that arrives while
 * that task runs makes the server refuse it (no message may be left behind by a run), and the worker
 * then replays the whole run, about 1,000 events: the shorter the task, the rarer that is.
 */
const SHORT_HAND_OVER_PATCH = 'lead-conversation-short-hand-over';

// Ingest and record are one short, idempotent transaction each: local activities run them inside
// the workflow task, which halves the round trips to the server per message (see docs/lead-conversation.md).
const localRetry = { initialInterval: '200 milliseconds', maximumInterval: '10 seconds', nonRetryableErrorTypes: NON_RETRYABLE_PLATFORM_ERRORS };
const { ingestInbound: ingestWithoutLimit, recordOutbound } = proxyLocalActivities<LeadIngestActivities>({ startToCloseTimeout: '30 seconds', retry: localRetry });
// Retried long enough to ride out a database restart or failover; after that the message is
// dead-lettered and the lead's other messages go on.
const { ingestInbound, recordThenIngest } = proxyLocalActivities<LeadIngestActivities>({
  startToCloseTimeout: '30 seconds', scheduleToCloseTimeout: '10 minutes', retry: localRetry,
});
// The chat composer bounds its own wait and falls back to the template, so it never needs a retry.
const { composeChatReply } = proxyActivities<ChatComposerActivities>({ startToCloseTimeout: '90 seconds', retry: { maximumAttempts: 3 } });
// Retried until it lands: a dead letter must never be lost itself.
const { deadLetterInbound } = proxyActivities<DeadLetterActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumInterval: '1 minute' } });

const DEFAULT_IDLE_TIMEOUT_SECONDS = 600;

/** An activity's failure: not a cancellation, nor a bug in the workflow code (which retries the task). */
const isActivityFailure = (error: unknown): error is TemporalFailure => error instanceof TemporalFailure && !(error instanceof CancelledFailure);

/** A message that cannot be processed never fails the lead, with the messages queued behind it. */
const deadLetterOnFailure = async (message: InboundMessage, work: () => Promise<unknown>) => {
  try {
    await work();
  } catch (error) {
    if (!isActivityFailure(error)) throw error;
    // The activity and the error's type, too: what an operator needs to fix it.
    await deadLetterInbound({ message, reason: failureReason(error, { origin: true }) });
  }
};

const replyTo = async (message: InboundMessage, result: IngestResult): Promise<string> => {
  if (!result.useChatComposer) return result.templateReply;
  const composed = await composeChatReply({ tenantId: message.tenantId, botId: message.botId, leadId: result.leadId, text: message.text, ingest: result });
  return composed.text;
};

/** One entity per lead: its messages are ingested, scored and answered one at a time, in arrival order. */
export async function leadConversation(input: LeadConversationInput): Promise<void> {
  const pending: InboundMessage[] = [...(input.pending ?? [])];
  setHandler(inboundSignal, (message) => {
    pending.push(message);
  });
  const lean = patched(LEAN_START_PATCH);
  const attributes = workflowInfo().typedSearchAttributes;
  // Starters set both (inboundDelivery); a run started without them still gets them.
  if (!lean || attributes.get(TENANT_ID) !== input.tenantId || attributes.get(BOT_ID) !== input.botId) {
    upsertSearchAttributes([{ key: TENANT_ID, value: input.tenantId }, { key: BOT_ID, value: input.botId }]);
  }
  const { sendText, sendMedia } = proxyActivities<BotPodActivities>({
    taskQueue: botPodTaskQueue(input.tenantId),
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '500 milliseconds', maximumInterval: '30 seconds' },
  });
  const idleTimeoutMs = (input.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS) * 1000;

  // Each upsert is an event and a visibility write on the server: only when what operators see changed.
  let memo: Record<string, unknown> | undefined;
  const showMemo = () => {
    if (memo && Object.entries(memo).some(([key, value]) => workflowInfo().memo?.[key] !== value)) upsertMemo(memo);
  };

  const notifyOwner = (result: IngestResult) => result.qualifiedEventId ? startOwnerNotification(input.tenantId, result.qualifiedEventId) : undefined;
  // No patch needed: a result recorded before enrolments existed has no emailEnrollmentId, so an old
  // history replays without this command.
  const enroll = (result: IngestResult) => result.emailEnrollmentId ? startEmailSequence(input.tenantId, result.emailEnrollmentId, result.leadId) : undefined;

  // A reply sent and not yet recorded (this run's, or the previous run's handed over with the queue):
  // it is recorded with the ingest of the message queued behind it, in one local activity (one
  // activation, one event and one transaction less per message).
  let unrecorded = input.unrecorded;
  const ingestAfterUnrecorded = async (message: InboundMessage, ingest: typeof ingestInbound) => {
    const previous = unrecorded;
    if (!previous) return ingest(message);
    unrecorded = undefined;
    try {
      return await recordThenIngest({ reply: previous.reply, message });
    } catch (error) {
      if (!isActivityFailure(error)) throw error;
      // Each again on its own (both are idempotent), so a failure dead-letters the message it belongs to.
      await deadLetterOnFailure(previous.message, () => recordOutbound(previous.reply));
      return ingest(message);
    }
  };

  const answer = async (message: InboundMessage, ingest: typeof ingestInbound, memoWhenDrained = false, mayDeferRecord = false) => {
    const result = await ingestAfterUnrecorded(message, ingest);
    if (workflowInfo().typedSearchAttributes.get(LEAD_ID) !== result.leadId) upsertSearchAttributes([{ key: LEAD_ID, value: result.leadId }]);
    memo = { waId: input.waId, phone: message.phoneE164 ?? memo?.phone ?? workflowInfo().memo?.phone ?? null, score: result.score, qualified: result.isQualified };
    if (!memoWhenDrained) showMemo();
    let childrenStarted: Promise<unknown> | undefined;
    if (result.qualifiedEventId || result.emailEnrollmentId) {
      if (patched(REPLY_BESIDE_CHILD_STARTS_PATCH)) {
        // Awaited before the reply, each start cost a workflow task of its own: the children and the
        // reply now go out in one task, and the starts are awaited after the send. A failed start
        // still dead-letters the message (the reply is out by then, under its idempotency key).
        childrenStarted = Promise.all([notifyOwner(result), enroll(result)]);
        void childrenStarted.catch(() => undefined); // handled: awaited below, after the send
      } else {
        await notifyOwner(result);
        await enroll(result);
      }
    }
    // A duplicate is answered again under the same idempotency key: the bot pod returns its first
    // send, or sends now if the first attempt died between ingest and send.
    const text = await replyTo(message, result);
    const sent = await sendText({
      tenantId: input.tenantId, botId: input.botId, toWaId: input.waId, text, idempotencyKey: `reply:${message.waMessageId}`,
      toJid: message.chatJid ?? null,
    });
    await childrenStarted;
    const reply = { tenantId: input.tenantId, botId: input.botId, leadId: result.leadId, inReplyTo: message.waMessageId, waMessageId: sent.waMessageId, text };
    // Only with no image to follow (its record comes after the reply's); with a hand-over to a new run
    // ahead, that run records it (before SHORT_HAND_OVER_PATCH, this run did).
    if (mayDeferRecord && pending.length > 0 && !result.imageSends?.length
      && (!workflowInfo().continueAsNewSuggested || patched(SHORT_HAND_OVER_PATCH)) && patched(RECORD_WITH_NEXT_INGEST_PATCH)) {
      unrecorded = { message, reply };
      return;
    }
    await recordOutbound(reply);
    // No patch needed: a result recorded before images were sent has no imageSends, so an old history
    // replays without these commands. The ingest claimed each image once per lead and day.
    for (const image of result.imageSends ?? []) {
      const media = await sendMedia({
        tenantId: input.tenantId, botId: input.botId, toWaId: input.waId, toJid: message.chatJid ?? null, objectKey: image.objectKey,
        mimeType: image.contentType, caption: image.caption, idempotencyKey: `image:${message.waMessageId}:${image.imageId}`,
      }).catch((error: unknown) => {
        // Only a final refusal gets here (the object is gone, another tenant's): the reply went out,
        // so the message is answered; the image is skipped, not dead-lettered with it.
        if (!isActivityFailure(error)) throw error;
        log.warn('product image not sent', { imageId: image.imageId, reason: failureReason(error, { origin: true }) });
        return null;
      });
      if (!media) continue;
      await recordOutbound({
        tenantId: input.tenantId, botId: input.botId, leadId: result.leadId, inReplyTo: message.waMessageId, waMessageId: media.waMessageId,
        text: image.caption ?? '', kind: 'image',
      });
    }
  };

  // Hand over to a new run: only what it needs, the lead's key, its settings, the messages not yet
  // processed and the reply to record with the first of them.
  const handOver = () => continueAsNew<typeof leadConversation>({
    tenantId: input.tenantId, botId: input.botId, waId: input.waId, idleTimeoutSeconds: input.idleTimeoutSeconds, pending, unrecorded,
  });
  let handOverWithNextMessage = false;

  for (;;) {
    const hasWork = await condition(() => pending.length > 0, idleTimeoutMs);
    // A message that arrived with the timeout is still processed, never dropped with the run.
    if (!hasWork && pending.length === 0) return;
    if (handOverWithNextMessage) await handOver();
    const message = pending.shift()!;
    if (lean || patched(DEAD_LETTER_PATCH)) {
      const memoWhenDrained = lean || patched(MEMO_WHEN_DRAINED_PATCH);
      await deadLetterOnFailure(message, () => answer(message, ingestInbound, memoWhenDrained, true));
      // What operators see: from a run's first message, then once the queue drains (or the run hands
      // over), so a burst costs two upserts, not one per message.
      if (memoWhenDrained && (pending.length === 0 || workflowInfo().continueAsNewSuggested || !workflowInfo().memo?.waId)) showMemo();
    } else {
      await answer(message, ingestWithoutLimit);
    }
    if (workflowInfo().continueAsNewSuggested) {
      // This task recorded the reply in a local activity when nothing was queued: the hand-over then
      // waits for the next message's task, which runs none.
      if (pending.length === 0 && patched(SHORT_HAND_OVER_PATCH)) handOverWithNextMessage = true;
      else await handOver();
    }
  }
}
