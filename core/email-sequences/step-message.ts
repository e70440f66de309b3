// One step's message, as the sequence workflow hands it to the send activity: already rendered
// (templates and escaping are the workflow side's job), addressed, and tied to its enrolment and step.
// The unsubscribe link is not part of it: the send activity signs one for the recipient.
// Its schema lives here, not in core/temporal: every workflow instance loads its own copy of the
// modules workflow code imports, and zod's would cost each cached workflow most of a megabyte.
import { z } from 'zod';

export const stepMessage = z.object({
  tenantId: z.uuid(),
  enrollmentId: z.uuid(),
  step: z.number().int().min(0).max(999),
  to: z.email().max(320),
  subject: z.string().min(1).max(998),
  text: z.string().max(1_000_000),
  html: z.string().max(1_000_000),
});

export type StepMessage = z.infer<typeof stepMessage>;
