// Readable, deterministic workflow ids: an operator can find any workflow from the ids in hand,
// and starting the same work twice collides on the id instead of running twice.
export const selfCheckWorkflowId = (requestId: string): string => `self-check/${requestId}`;
