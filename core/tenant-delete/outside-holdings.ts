// What a tenant holds outside Postgres: its objects under `tenants/<tenantId>/` and its Temporal
// Schedules and running workflows. Read by the dry run and by the delete itself.
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { tenantPrefix } from '../object-keys.ts';
import { tenantScheduleId } from '../temporal/schedules.ts';

export type TenantObject = { readonly key: string; readonly bytes: number };

/** Every object under the tenant's prefix, page by page (`onPage` runs after each, for heartbeats). */
export const listTenantObjects = async (
  storage: { readonly s3: S3Client; readonly bucket: string }, tenantId: string, onPage: (listed: number) => void = () => undefined,
): Promise<TenantObject[]> => {
  const objects: TenantObject[] = [];
  let token: string | undefined;
  do {
    const page = await storage.s3.send(new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: tenantPrefix(tenantId), ContinuationToken: token }));
    for (const object of page.Contents ?? []) objects.push({ key: object.Key!, bytes: object.Size ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    onPage(objects.length);
  } while (token !== undefined);
  return objects;
};

/** The ids of the tenant's Schedules (`schedule/<tenantId>/...`). */
export const listTenantSchedules = async (temporal: Client, tenantId: string): Promise<string[]> => {
  const prefix = tenantScheduleId(tenantId, '');
  const ids: string[] = [];
  for await (const summary of temporal.schedule.list()) if (summary.scheduleId.startsWith(prefix)) ids.push(summary.scheduleId);
  return ids.sort();
};

export type RunningWorkflow = { readonly workflowId: string; readonly runId: string; readonly type: string };

/** Running workflows started with the tenant's TenantId search attribute. */
export const listTenantRunningWorkflows = async (temporal: Client, tenantId: string): Promise<RunningWorkflow[]> => {
  // Parsed as a UUID: it cannot break out of the quoted literal.
  const query = `TenantId = '${z.uuid().parse(tenantId)}' AND ExecutionStatus = 'Running'`;
  const workflows: RunningWorkflow[] = [];
  for await (const execution of temporal.workflow.list({ query })) {
    workflows.push({ workflowId: execution.workflowId, runId: execution.runId, type: execution.type });
  }
  return workflows;
};
