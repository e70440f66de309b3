import {
  condition, continueAsNew, defineSignal, proxyActivities, setHandler, upsertMemo, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import { composeTemplateReply } from '../core/replies.ts';
import { BOT_ID, LEAD_ID, TENANT_ID } from '../core/temporal/search-attributes.ts';
import {
  botPodTaskQueue, INBOUND_SIGNAL, type BotPodActivities, type InboundMessage, type LeadConversationInput,
} from '../core/temporal/lead-conversation.ts';
import type { Activities } from '../activities/index.ts';

export const inboundSignal = defineSignal<[InboundMessage]>(INBOUND_SIGNAL);

const { ingestInbound, recordOutbound } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' },
});

/** The conversation ends after this long without a message; the next message starts it again. */
const IDLE_TIMEOUT = '10 minutes';

/** One entity per lead: its messages are ingested, scored and answered one at a time, in order. */
export async function leadConversation(input: LeadConversationInput): Promise<void> {
  const pending: InboundMessage[] = [...(input.pending ?? [])];
  setHandler(inboundSignal, (message) => {
    pending.push(message);
  });
  upsertSearchAttributes([{ key: TENANT_ID, value: input.tenantId }, { key: BOT_ID, value: input.botId }]);
  const { sendText } = proxyActivities<BotPodActivities>({
    taskQueue: botPodTaskQueue(input.tenantId),
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '500 milliseconds', maximumInterval: '30 seconds' },
  });

  for (;;) {
    const hasWork = await condition(() => pending.length > 0, IDLE_TIMEOUT);
    if (!hasWork && pending.length === 0) return;
    const message = pending.shift()!;
    const result = await ingestInbound(message);
    upsertSearchAttributes([{ key: LEAD_ID, value: result.leadId }]);
    upsertMemo({ waId: input.waId, score: result.score, qualified: result.isQualified });
    if (!result.duplicate) {
      const text = composeTemplateReply(result);
      const sent = await sendText({
        tenantId: input.tenantId, botId: input.botId, toWaId: input.waId, text, idempotencyKey: `reply:${message.waMessageId}`,
      });
      await recordOutbound({ tenantId: input.tenantId, botId: input.botId, leadId: result.leadId, waMessageId: sent.waMessageId, text });
    }
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof leadConversation>({ tenantId: input.tenantId, botId: input.botId, waId: input.waId, pending });
    }
  }
}
