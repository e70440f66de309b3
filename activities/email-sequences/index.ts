// Every activity of email sequences: the enrolment's reads and writes, and the send of one step.
import { createEnrollmentActivities } from './enrollment.ts';
import { createEmailSequenceActivities, type EmailSequenceDeps } from './send-step.ts';

export const createEmailSequenceFeatureActivities = (deps: EmailSequenceDeps) => ({
  ...createEnrollmentActivities(deps),
  ...createEmailSequenceActivities(deps),
});
