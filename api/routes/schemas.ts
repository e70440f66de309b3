// Shared request pieces: ids, pagination, tenant settings.
import { z } from 'zod';
import { E164, storableText } from '../../core/text-patterns.ts';

export { TIME_ZONES, tenantSettingsSchema } from '../../core/tenant-settings.ts';

export const tenantParams = z.strictObject({ tenantId: z.uuid() });
export const botParams = z.strictObject({ tenantId: z.uuid(), botId: z.uuid() });
export const leadParams = z.strictObject({ tenantId: z.uuid(), leadId: z.uuid() });

export { nameText } from '../../core/text-patterns.ts';

export const e164 = z.string().regex(E164, 'must be an E.164 phone number such as +5511999990000');

/**
 * Keyset cursor: the last row's creation time (microseconds since the epoch) and id. Its pattern
 * is exact, so every value that matches it is a cursor the API can read.
 */
const CURSOR = /^(\d{1,16})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
export const cursorSchema = z.string().regex(CURSOR, 'not a cursor returned by this API').transform((value) => {
  const [, micros, id] = CURSOR.exec(value)!;
  return { micros: micros!, id: id! };
});
/** From the row's creation time in whole microseconds (as text: exact, unlike a JS number of ms). */
export const encodeCursor = (createdAtMicros: string, id: string) => `${createdAtMicros}.${id}`;

export const searchText = storableText({ min: 1, max: 100 });
