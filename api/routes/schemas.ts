// Shared request pieces: ids, pagination, tenant settings.
import { z } from 'zod';
import { conversationSettingsSchema } from '../../core/conversation-settings.ts';

export const tenantParams = z.strictObject({ tenantId: z.uuid() });
export const botParams = z.strictObject({ tenantId: z.uuid(), botId: z.uuid() });
export const leadParams = z.strictObject({ tenantId: z.uuid(), leadId: z.uuid() });

const TIME_ZONES = new Set(Intl.supportedValuesOf('timeZone'));

export const tenantSettingsSchema = z.strictObject({
  retentionDays: z.number().int().min(1).max(3650).optional(),
  timezone: z.string().refine((zone) => TIME_ZONES.has(zone) || zone === 'UTC', 'must be an IANA time zone such as America/Sao_Paulo').optional(),
  leadFields: conversationSettingsSchema.shape.leadFields.optional(),
  replies: conversationSettingsSchema.shape.replies.optional(),
});

export const e164 = z.string().regex(/^\+[1-9]\d{1,14}$/, 'must be an E.164 phone number such as +5511999990000');

/** Opaque keyset cursor: the last row's sort key. */
export const cursorSchema = z.string().max(200).transform((value, context) => {
  try {
    const decoded = z.object({ at: z.iso.datetime({ offset: true }), id: z.uuid() }).parse(JSON.parse(Buffer.from(value, 'base64url').toString('utf8')));
    return decoded;
  } catch {
    context.addIssue({ code: 'custom', message: 'not a cursor returned by this API' });
    return z.NEVER;
  }
});
export const encodeCursor = (at: string, id: string) => Buffer.from(JSON.stringify({ at, id })).toString('base64url');
