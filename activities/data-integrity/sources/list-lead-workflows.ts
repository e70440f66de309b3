// Running lead conversations from Temporal's visibility store, with the search attributes the lead
// workflow carries (TenantId and BotId from its start, LeadId once its first message was ingested).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { ListedWorkflow } from '../../../core/data-integrity/check.ts';
import { LEAD_CONVERSATION_WORKFLOW } from '../../../core/temporal/lead-conversation.ts';
import { BOT_ID, LEAD_ID, TENANT_ID } from '../../../core/temporal/search-attributes.ts';

export const listRunningLeadWorkflows = async (temporal: Client, tenantId: string | null): Promise<ListedWorkflow[]> => {
  // tenantId is a UUID (parsed from the scope name), so it cannot break out of the quoted literal.
  const query = `WorkflowType = '${LEAD_CONVERSATION_WORKFLOW}' AND ExecutionStatus = 'Running'${tenantId === null ? '' : ` AND TenantId = '${tenantId}'`}`;
  const workflows: ListedWorkflow[] = [];
  for await (const execution of temporal.workflow.list({ query })) {
    const attributes = execution.typedSearchAttributes;
    workflows.push({
      workflowId: execution.workflowId,
      runId: execution.runId,
      startTime: execution.startTime,
      tenantId: attributes.get(TENANT_ID) ?? null,
      botId: attributes.get(BOT_ID) ?? null,
      leadId: attributes.get(LEAD_ID) ?? null,
    });
  }
  return workflows;
};

/**
 * Visibility is eventually consistent: waits (at most `timeoutMs`) until a run just terminated is no
 * longer listed as running, so the re-check that follows a fix does not see it still there.
 */
export const waitUntilNotListedRunning = async (temporal: Client, runId: string, timeoutMs: number): Promise<void> => {
  // Run ids are UUIDs: checked, so the id cannot break out of the quoted literal.
  const query = `RunId = '${z.uuid().parse(runId)}' AND ExecutionStatus = 'Running'`;
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(250)) {
    if ((await temporal.workflow.count(query)).count === 0) return;
  }
};
