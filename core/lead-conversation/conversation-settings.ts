// The part of a tenant's settings that shapes its conversations: which lead details the bot
// collects and the texts of its template replies. The API validates writes with this schema; the
// conversation reads with it and falls back to the defaults for anything missing.
import { z } from 'zod';
import { storableText } from '../text-patterns.ts';
import { LEAD_FIELDS } from './lead-info.ts';

const replyText = storableText({ min: 1, max: 1_000, trim: true });

export const replyTemplatesSchema = z.strictObject({
  greeting: replyText.default('Olá! Como posso ajudar?'),
  pricing: replyText.default('Posso enviar nossa tabela de preços.'),
  /** `{products}` is replaced by the matched products, e.g. "Plano Pro (BRL 99.90)". */
  catalog: replyText.default('Temos {products}.'),
  qualified: replyText.default('Obrigado! Um consultor vai falar com você em breve.'),
  askName: replyText.default('Como posso chamar você?'),
  askEmail: replyText.default('Qual é o seu e-mail?'),
  askCompany: replyText.default('Qual é a sua empresa?'),
});
export type ReplyTemplates = z.infer<typeof replyTemplatesSchema>;

export const conversationSettingsSchema = z.object({
  /** Details the bot asks for, in this order; an empty list means it asks for nothing. */
  leadFields: z.array(z.enum(LEAD_FIELDS)).max(LEAD_FIELDS.length).refine((fields) => new Set(fields).size === fields.length, 'lead fields must not repeat')
    .default([...LEAD_FIELDS]),
  replies: replyTemplatesSchema.default(replyTemplatesSchema.parse({})),
});
export type ConversationSettings = z.infer<typeof conversationSettingsSchema>;

export const DEFAULT_CONVERSATION_SETTINGS: ConversationSettings = conversationSettingsSchema.parse({});

/**
 * Reads the conversation part of stored settings. A stored value that no longer parses (written
 * before a rule existed) falls back to its default instead of stopping the tenant's conversations.
 */
export const readConversationSettings = (settings: unknown): ConversationSettings => {
  const stored = z.object({ leadFields: z.unknown(), replies: z.unknown() }).partial().safeParse(settings);
  if (!stored.success) return DEFAULT_CONVERSATION_SETTINGS;
  const leadFields = conversationSettingsSchema.shape.leadFields.safeParse(stored.data.leadFields);
  const replies = replyTemplatesSchema.safeParse(stored.data.replies ?? {});
  return {
    leadFields: leadFields.success ? leadFields.data : DEFAULT_CONVERSATION_SETTINGS.leadFields,
    replies: replies.success ? replies.data : DEFAULT_CONVERSATION_SETTINGS.replies,
  };
};
