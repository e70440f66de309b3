import { defineSearchAttributeKey, type SearchAttributePair, SearchAttributeType } from '@temporalio/common';

// Registered on the Temporal server by the worker at start (registerSearchAttributes), so operators
// can filter workflows by tenant, bot and lead in Temporal UI, on a fresh cluster as on the dev server.
export const TENANT_ID = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
export const BOT_ID = defineSearchAttributeKey('BotId', SearchAttributeType.KEYWORD);
export const LEAD_ID = defineSearchAttributeKey('LeadId', SearchAttributeType.KEYWORD);

export const PLATFORM_SEARCH_ATTRIBUTES = [TENANT_ID, BOT_ID, LEAD_ID] as const;

/** `typedSearchAttributes` of a tenant-scoped workflow's start: its tenant, and its bot and lead where it has them. */
export const tenantSearchAttributes = ({ tenantId, botId, leadId }: { tenantId: string; botId?: string; leadId?: string }): SearchAttributePair[] => [
  { key: TENANT_ID, value: tenantId },
  ...(botId === undefined ? [] : [{ key: BOT_ID, value: botId }]),
  ...(leadId === undefined ? [] : [{ key: LEAD_ID, value: leadId }]),
];
