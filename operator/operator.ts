// The operator: while it holds the Lease, its controller turns every event into a signal-with-start
// of the tenant's workflow `tenant/<tenantId>` (started when none runs: a BotTenant created again
// after its workflow ended starts a fresh one). Replicas that do not lead only serve activities.
import { WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { KubeClients } from '../core/kubernetes/clients.ts';
import {
  BOT_TENANT_WORKFLOW, botTenantChangedSignal, botTenantWorkflowId, type BotTenantRef, type BotTenantWorkflowInput,
} from '../core/temporal/bot-tenant.ts';
import { TENANT_ID } from '../core/temporal/search-attributes.ts';
import type * as workflows from '../workflows/index.ts';
import { createController } from './controller.ts';
import { createLeaderElection } from './leader-election.ts';

export type OperatorDependencies = {
  readonly kube: KubeClients;
  readonly temporal: Client;
  /** The platform worker's queue (the workflow runs there) and the operator's (its Kubernetes activities). */
  readonly taskQueues: { readonly platform: string; readonly operator: string };
  readonly identity: string;
  readonly lease?: { readonly durationSeconds: number; readonly retryPeriodMs: number };
  readonly log: (message: string, details?: object) => void;
};

export type Operator = { start(): void; stop(): Promise<void>; isLeader(): boolean };

export const createOperator = (deps: OperatorDependencies): Operator => {
  const signalTenant = async (ref: BotTenantRef) => {
    await deps.temporal.workflow.signalWithStart<typeof workflows.botTenantReconcile, [BotTenantRef]>(BOT_TENANT_WORKFLOW, {
      workflowId: botTenantWorkflowId(ref.tenantId),
      taskQueue: deps.taskQueues.platform,
      args: [{ ...ref, operatorTaskQueue: deps.taskQueues.operator } satisfies BotTenantWorkflowInput],
      signal: botTenantChangedSignal,
      signalArgs: [ref],
      // A workflow that ended (its BotTenant deleted) never blocks a new one for the same tenant.
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: new TypedSearchAttributes([{ key: TENANT_ID, value: ref.tenantId }]),
    });
  };
  const controller = createController({ kube: deps.kube, changed: signalTenant, log: deps.log });
  const election = createLeaderElection({
    coordination: deps.kube.coordination,
    namespace: deps.kube.namespace,
    identity: deps.identity,
    leaseDurationSeconds: deps.lease?.durationSeconds ?? 15,
    retryPeriodMs: deps.lease?.retryPeriodMs ?? 2_000,
    // Not awaited: a controller still starting (API server away) must not hold up the Lease's renewal.
    onStartedLeading: () => void controller.start().catch((error: unknown) => deps.log('controller failed to start', { error: String(error) })),
    onStoppedLeading: () => controller.stop(),
    log: deps.log,
  });
  return {
    start: () => election.start(),
    stop: () => election.stop(),
    isLeader: () => election.isLeader(),
  };
};
