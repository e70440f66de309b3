// Contract of the tenant reconcile: the entity workflow `tenant/<tenantId>` that converges a
// BotTenant's Kubernetes objects, the controller's signal, and the activities it calls on the
// operator's task queue (Kubernetes) and on the platform queue (the tenant row).
import { defineSignal } from '@temporalio/workflow';
import type { BotTenantStatus } from '../bot-tenant/resource.ts';

export const BOT_TENANT_WORKFLOW = 'botTenantReconcile';

export const botTenantWorkflowId = (tenantId: string): string => `tenant/${tenantId}`;

/** Which BotTenant a workflow converges (the resource's name may differ from the tenant's slug). */
export type BotTenantRef = { readonly namespace: string; readonly name: string; readonly tenantId: string };

export type BotTenantWorkflowInput = BotTenantRef & {
  /** The operator's task queue (OPERATOR_TASK_QUEUE): its Kubernetes activities run there. */
  readonly operatorTaskQueue: string;
  /** Passes before the workflow continues as new (default 500; the tests make it small). */
  readonly passesPerRun?: number;
};

/** "Something changed" (the BotTenant or one of its objects): the workflow reconciles once for any burst. */
export const botTenantChangedSignal = defineSignal<[BotTenantRef]>('botTenantChanged');

/** What the workflow learned about the BotTenant (null: it no longer exists). */
export type ObservedBotTenant = {
  readonly generation: number;
  readonly deleting: boolean;
  /** Our finalizer is on the resource. */
  readonly finalized: boolean;
  readonly displayName: string;
  readonly paused: boolean;
  /** The StatefulSet reports a ready replica: the pod's task queue is worth asking. */
  readonly podReady: boolean;
  readonly onDelete: { readonly snapshot: 'Required' | 'Skip'; readonly volume: 'Retain' | 'Delete' };
  /** Set (and the tenant's objects untouched) when the stored resource fails the platform's own parse. */
  readonly invalid: string | null;
} | null;

export type BotTenantStatusUpdate = {
  readonly ref: BotTenantRef;
  readonly applyError: string | null;
  readonly tenantLinkError: string | null;
  readonly snapshotError: string | null;
  /** Undefined: keep what the status says. */
  readonly connectedBots?: number;
  readonly lastSnapshot?: NonNullable<BotTenantStatus['lastSnapshot']>;
};

/** Activities of the operator process (only it holds Kubernetes credentials). */
export type BotTenantKubeActivities = {
  readBotTenant(ref: BotTenantRef): Promise<ObservedBotTenant>;
  ensureBotTenantFinalizer(ref: BotTenantRef): Promise<void>;
  /** Server-side applies the tenant's Secret, Service and StatefulSet (field manager `botinteligente`, forced). */
  applyBotPodObjects(ref: BotTenantRef): Promise<void>;
  /** Computes the conditions from the StatefulSet as it is now and writes the status when it changed. */
  writeBotTenantStatus(update: BotTenantStatusUpdate): Promise<void>;
  /** Deletes the StatefulSet, Service and Secret, and the PVCs when `deleteVolumes`; absent objects are fine. */
  deleteBotPodObjects(input: { readonly ref: BotTenantRef; readonly deleteVolumes: boolean }): Promise<void>;
  removeBotTenantFinalizer(ref: BotTenantRef): Promise<void>;
};

export type LinkTenantInput = { readonly tenantId: string; readonly resourceName: string; readonly displayName: string };
export type LinkTenantResult = { readonly created: boolean; readonly slug: string };

/** Activities of the platform worker (it holds the database). */
export type TenantLinkActivities = {
  /** Links the BotTenant to its tenant row, creating the row when it does not exist. */
  linkTenantRow(input: LinkTenantInput): Promise<LinkTenantResult>;
};
