// A tenant's settings document (tenants.settings): validated by the API on write and re-checked by
// the data-integrity monitor on rows already stored.
import { z } from 'zod';
import { conversationSettingsSchema } from './lead-conversation/conversation-settings.ts';

export const TIME_ZONES = [...new Set(['UTC', ...Intl.supportedValuesOf('timeZone')])] as [string, ...string[]];

export const tenantSettingsSchema = z.strictObject({
  retentionDays: z.number().int().min(1).max(3650).optional(),
  timezone: z.enum(TIME_ZONES, 'must be an IANA time zone such as America/Sao_Paulo').optional(),
  leadFields: conversationSettingsSchema.shape.leadFields.meta({ uniqueItems: true }).optional(),
  replies: conversationSettingsSchema.shape.replies.optional(),
});
