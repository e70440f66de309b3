// What a schedule does when it fires (schedules.action): validated by the API on write and re-checked
// by the data-integrity monitor on rows already stored.
import { z } from 'zod';
import { nameText } from '../text-patterns.ts';

export const scheduleActionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('follow_up'), message: nameText(1000).optional() }),
  z.strictObject({ type: z.literal('broadcast'), message: nameText(1000) }),
]);
