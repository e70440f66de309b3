// The Kubernetes activities of the tenant reconcile, served by the operator process on its own task
// queue (OPERATOR_TASK_QUEUE): the only process with Kubernetes credentials. The tenant row's
// activity (link-tenant.ts) runs on the platform worker, merged in activities/index.ts.
import type { KubeClients } from '../../core/kubernetes/clients.ts';
import type { BotTenantKubeActivities } from '../../core/temporal/bot-tenant.ts';
import { applyBotPodObjects, type BotPodSettings } from './apply-objects.ts';
import { deleteBotPodObjects } from './delete-objects.ts';
import { ensureBotTenantFinalizer, removeBotTenantFinalizer } from './finalizer.ts';
import { readBotTenant } from './read-bot-tenant.ts';
import { writeBotTenantStatus } from './write-status.ts';

export type BotTenantActivityDependencies = { readonly kube: KubeClients; readonly botPod: BotPodSettings };

export const createBotTenantActivities = (deps: BotTenantActivityDependencies): BotTenantKubeActivities => ({
  readBotTenant: readBotTenant(deps.kube),
  ensureBotTenantFinalizer: ensureBotTenantFinalizer(deps.kube),
  applyBotPodObjects: applyBotPodObjects(deps.kube, deps.botPod),
  writeBotTenantStatus: writeBotTenantStatus(deps.kube),
  deleteBotPodObjects: deleteBotPodObjects(deps.kube),
  removeBotTenantFinalizer: removeBotTenantFinalizer(deps.kube),
});
