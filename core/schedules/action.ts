// What a schedule does when it fires (schedules.action): validated by the API on write and re-checked
// by the data-integrity monitor on rows already stored.
import { z } from 'zod';
import { nameText } from '../text-patterns.ts';
import { leadSegmentSchema, type LeadSegment } from './segment.ts';

/** The hard bound of a schedule's own send rate; the platform's cap (config) is checked on write and on firing. */
export const FOLLOW_UP_RATE_LIMIT_MAX = 600;

/** What `follow_up` without a segment reaches: leads silent for a week. */
export const DEFAULT_FOLLOW_UP_SEGMENT: LeadSegment = { idleDays: 7 };
/** What `follow_up` without a message says. */
export const DEFAULT_FOLLOW_UP_MESSAGE = 'Olá {name}, ainda posso ajudar com alguma coisa?';

const followUpMessage = nameText(1000).describe('The text sent; `{name}` is replaced by the lead\'s name.');

export const scheduleActionSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('whatsapp_follow_up'),
    segment: leadSegmentSchema,
    message: followUpMessage,
    ratePerMinute: z.number().int().min(1).max(FOLLOW_UP_RATE_LIMIT_MAX).optional()
      .describe('Messages per minute through the bot\'s number; the platform default when absent, never above the platform cap.'),
  }),
  z.strictObject({ type: z.literal('email_enrollment'), segment: leadSegmentSchema, sequenceId: z.uuid() }),
  // The first two action types, kept so stored rows stay valid: each runs as a WhatsApp follow-up.
  z.strictObject({ type: z.literal('follow_up'), message: nameText(1000).optional() }),
  z.strictObject({ type: z.literal('broadcast'), message: nameText(1000) }),
]);

export type ScheduleAction = z.infer<typeof scheduleActionSchema>;

export type WhatsappFollowUp = { readonly segment: LeadSegment; readonly message: string; readonly ratePerMinute: number | null };

/** The WhatsApp follow-up an action runs: `follow_up` reaches idle leads, `broadcast` every lead of the bot. */
export const whatsappFollowUpOf = (action: ScheduleAction): WhatsappFollowUp | null => {
  switch (action.type) {
    case 'whatsapp_follow_up': return { segment: action.segment, message: action.message, ratePerMinute: action.ratePerMinute ?? null };
    case 'follow_up': return { segment: DEFAULT_FOLLOW_UP_SEGMENT, message: action.message ?? DEFAULT_FOLLOW_UP_MESSAGE, ratePerMinute: null };
    case 'broadcast': return { segment: {}, message: action.message, ratePerMinute: null };
    case 'email_enrollment': return null;
  }
};

/** The stages an action names, for the write-time check that they are the tenant's. */
export const stageIdsOf = (action: ScheduleAction): readonly string[] =>
  'segment' in action ? action.segment.stageIds ?? [] : [];
