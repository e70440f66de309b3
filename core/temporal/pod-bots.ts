// Contract of a bot pod's start-up question "which bots do I run?". Pods hold no database
// credentials: the platform worker answers from the database, under RLS for that tenant.
export const POD_ACTIVE_BOTS_WORKFLOW = 'podActiveBots';

export type PodActiveBotsInput = { readonly tenantId: string };

/** One question per tenant at a time: a pod restarted meanwhile joins the one already asked. */
export const podActiveBotsWorkflowId = (tenantId: string): string => `pod-bots/${tenantId}`;
