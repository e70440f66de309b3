// Compile-time test: workflow starts are typed by the worker's own workflows, so a renamed workflow
// or a wrong argument fails `tsc --noEmit` (the first step of `npm test`), not a request at run
// time. Each `@ts-expect-error` line must stay an error: tsc fails if one compiles. Never run.
import type { Client } from '@temporalio/client';
import type { createWorkflowStarter } from '../../api/start-workflow.ts';
import { LEAD_CONVERSATION_WORKFLOW, type InboundMessage } from '../../core/temporal/lead-conversation.ts';
import { POD_ACTIVE_BOTS_WORKFLOW } from '../../core/temporal/pod-bots.ts';
import type * as workflows from '../../workflows/index.ts';
import type { startWorkflowAction } from '../../worker/schedules.ts';

declare const start: ReturnType<typeof createWorkflowStarter>;
declare const scheduled: typeof startWorkflowAction;
declare const client: Client;
declare const message: InboundMessage;

/** The contracts' workflow names are names the worker registers. */
export const contractNames = [LEAD_CONVERSATION_WORKFLOW, POD_ACTIVE_BOTS_WORKFLOW] satisfies (keyof typeof workflows)[];

export const apiStarts = async () => {
  await start('backupDatabase', 'id', [{ kind: 'manual' }]);
  await start('restoreDrill', 'id', []);
  // @ts-expect-error a workflow the worker does not register
  await start('backupDatabases', 'id', [{ kind: 'manual' }]);
  // @ts-expect-error a backup kind the workflow does not know
  await start('backupDatabase', 'id', [{ kind: 'hourly' }]);
  // @ts-expect-error a required input left out
  await start('changeQualificationThreshold', 'id', []);
  // @ts-expect-error another workflow's input
  await start('restoreBackup', 'id', [{ tenantId: 't', botId: 'b', threshold: 70, actor: 'api' }]);
};

export const scheduleStarts = () => [
  scheduled('backupDatabase', 'platform', [{ kind: 'nightly' }]),
  // @ts-expect-error a backup kind the workflow does not know
  scheduled('backupDatabase', 'platform', [{ kind: 'weekly' }]),
  // @ts-expect-error the drill takes no input
  scheduled('restoreDrill', 'platform', [{ kind: 'nightly' }]),
];

export const clientStarts = async () => {
  const input = { tenantId: 't', botId: 'b', waId: '5511999990000' };
  await client.workflow.signalWithStart<typeof workflows.leadConversation, [InboundMessage]>(LEAD_CONVERSATION_WORKFLOW, {
    workflowId: 'id', taskQueue: 'platform', args: [input], signal: 'inbound', signalArgs: [message],
  });
  await client.workflow.signalWithStart<typeof workflows.leadConversation, [InboundMessage]>(LEAD_CONVERSATION_WORKFLOW, {
    // @ts-expect-error the lead's WhatsApp id left out
    workflowId: 'id', taskQueue: 'platform', args: [{ tenantId: 't', botId: 'b' }], signal: 'inbound', signalArgs: [message],
  });
  const bots: string[] = await client.workflow.execute<typeof workflows.podActiveBots>(POD_ACTIVE_BOTS_WORKFLOW, {
    workflowId: 'id', taskQueue: 'platform', args: [{ tenantId: 't' }],
  });
  // @ts-expect-error the answer is a list of bot ids, not a number
  const count: number = await client.workflow.execute<typeof workflows.podActiveBots>(POD_ACTIVE_BOTS_WORKFLOW, {
    workflowId: 'id', taskQueue: 'platform', args: [{ tenantId: 't' }],
  });
  return [bots, count];
};
