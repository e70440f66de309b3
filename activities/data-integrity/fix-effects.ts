// What a fix may do outside the database, each written to the fix log (in the fix's transaction)
// before it acts. Both are idempotent, because the transaction may roll back after they acted and
// the activity run again: a retried move finds the object already set aside, a retried terminate
// finds the workflow already ended.
import { WorkflowNotFoundError } from '@temporalio/client';
import type { DatabaseTransactionConnection } from 'slonik';
import type { FixEffects } from '../../core/data-integrity/check.ts';
import { quarantineKey } from '../../core/object-keys.ts';
import { appendFixLog } from './before-image-log.ts';
import { copyObject, deleteObject, headObject } from './object-moves.ts';
import { waitUntilNotListedRunning } from './sources/list-lead-workflows.ts';
import type { IntegrityOutside } from './sources/index.ts';

/** Long enough for Elasticsearch's refresh interval (1 s), short enough to hold the fix's transaction. */
const VISIBILITY_WAIT_MS = 10_000;

const unavailable = (what: string) => new Error(`this worker has no ${what} configured for data-integrity fixes`);

export const createFixEffects = (tx: DatabaseTransactionConnection, fixId: string, outside: IntegrityOutside | undefined): FixEffects => {
  const bucket = () => {
    if (outside?.storage === undefined) throw unavailable('object store');
    return outside.storage;
  };
  return {
    objectExists: async (key) => (await headObject(bucket(), key)) !== null,
    quarantineObject: async (key) => {
      const target = quarantineKey(fixId, key);
      const [original, aside] = await Promise.all([headObject(bucket(), key), headObject(bucket(), target)]);
      if (original === null && aside === null) throw new Error(`object ${key} no longer exists`);
      await appendFixLog(tx, fixId, { operation: 'quarantine-object', rowKey: key, image: { objectKey: key, quarantineKey: target, ...(original ?? aside)! } });
      if (original === null) return; // moved by an attempt whose transaction rolled back
      await copyObject(bucket(), key, target);
      await deleteObject(bucket(), key);
    },
    terminateWorkflow: async ({ workflowId, runId }, reason) => {
      if (outside?.temporal === undefined) throw unavailable('Temporal client');
      const { temporal } = outside;
      const named = `data-integrity fix ${fixId}: ${reason}`;
      await appendFixLog(tx, fixId, { operation: 'terminate-workflow', rowKey: workflowId, image: { workflowId, runId, reason: named } });
      try {
        await temporal.workflow.getHandle(workflowId, runId).terminate(named);
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error; // already ended: nothing left to stop
      }
      await waitUntilNotListedRunning(temporal, runId, VISIBILITY_WAIT_MS);
    },
  };
};
