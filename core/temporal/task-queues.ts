/** Task queue served by a tenant's bot pod: the only process holding that tenant's WhatsApp sockets. */
export const botPodTaskQueue = (tenantId: string): string => `bot-pod.${tenantId}`;
