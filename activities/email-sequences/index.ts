// Every activity of email sequences: the enrolment's reads and writes, and the send of one step.
import type { Config } from '../../core/config.ts';
import type { WithTenant } from '../../core/db/with-tenant.ts';
import { createEnrollmentActivities } from './enrollment.ts';
import { createEmailSequenceActivities } from './send-step.ts';

export const createEmailSequenceFeatureActivities = (deps: { withTenant: WithTenant; email: Config['email'] }) => ({
  ...createEnrollmentActivities(deps),
  ...createEmailSequenceActivities(deps),
});
