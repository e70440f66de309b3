import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Registered on the Temporal server by the stack harness (and by the operator in production),
// so operators can filter workflows by tenant, bot and lead in Temporal UI.
export const TENANT_ID = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
export const BOT_ID = defineSearchAttributeKey('BotId', SearchAttributeType.KEYWORD);
export const LEAD_ID = defineSearchAttributeKey('LeadId', SearchAttributeType.KEYWORD);

export const PLATFORM_SEARCH_ATTRIBUTES = [TENANT_ID, BOT_ID, LEAD_ID] as const;
