import type { V1OwnerReference } from '@kubernetes/client-node';
import { BOT_TENANT, type BotTenantResource } from './resource.ts';

/** The BotTenant owns its objects: kubectl shows who made them, and the garbage collector removes them with it. */
export const ownerReferenceTo = (tenant: BotTenantResource): V1OwnerReference => ({
  apiVersion: BOT_TENANT.apiVersion,
  kind: BOT_TENANT.kind,
  name: tenant.metadata.name,
  uid: tenant.metadata.uid,
  controller: true,
  blockOwnerDeletion: true,
});
