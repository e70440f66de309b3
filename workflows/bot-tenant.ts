// The tenant reconcile: one entity workflow per tenant (`tenant/<tenantId>`), signalled by the
// operator's controller on every change of its BotTenant or of the objects made for it. Each pass
// reads the BotTenant and converges the cluster to it; signals arriving during a pass collapse into
// one more pass. Deletion snapshots the sessions through the bot pod before anything is removed.
import {
  condition, continueAsNew, log, proxyActivities, setHandler, TimeoutFailure, workflowInfo,
} from '@temporalio/workflow';
import {
  botTenantChangedSignal, type BotTenantKubeActivities, type BotTenantRef, type BotTenantWorkflowInput,
  type ObservedBotTenant, type TenantLinkActivities,
} from '../core/temporal/bot-tenant.ts';
import { botPodTaskQueue, type BotPodActivities } from '../core/temporal/bot-pod.ts';
import { failureReason } from '../core/temporal/failure-reason.ts';
import { sessionSnapshotKey } from '../core/object-keys.ts';

/** A reconcile with no event at all still runs this often: drift nobody was told about is repaired. */
const RESYNC = '10 minutes';
/** Passes before a fresh run (history stays short even when continueAsNewSuggested never comes). */
const PASSES_PER_RUN = 500;
const SNAPSHOT_POD_WAIT_SECONDS = 30;

/** Waits between failed passes: 2 s doubling up to 5 minutes. */
const retryDelayMs = (failures: number) => Math.min(5 * 60_000, 2_000 * 2 ** Math.min(failures - 1, 10));

type PassOutcome = 'settled' | 'retry' | 'gone';
type Snapshot = { readonly key: string; readonly at: string };

export async function botTenantReconcile(input: BotTenantWorkflowInput): Promise<void> {
  let ref: BotTenantRef = { namespace: input.namespace, name: input.name, tenantId: input.tenantId };
  let changed = true;
  setHandler(botTenantChangedSignal, (latest) => {
    ref = latest;
    changed = true;
  });

  const kube = proxyActivities<BotTenantKubeActivities>({
    taskQueue: input.operatorTaskQueue,
    // A few API calls each: an operator killed mid-activity costs this long before the retry.
    startToCloseTimeout: '15 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
  });
  const platform = proxyActivities<TenantLinkActivities>({
    startToCloseTimeout: '15 seconds',
    retry: { initialInterval: '1 second', maximumAttempts: 3 },
  });
  const pod = proxyActivities<BotPodActivities>({
    taskQueue: botPodTaskQueue(input.tenantId),
    // No pod polls its queue (paused, crashed, not scheduled): fail, say so, and retry later.
    scheduleToStartTimeout: `${SNAPSHOT_POD_WAIT_SECONDS} seconds`,
    startToCloseTimeout: '10 minutes',
    // One attempt per pass: the pass writes the failure into the status before it retries.
    retry: { maximumAttempts: 1 },
  });

  let linked = false;
  let snapshot: Snapshot | null = null;

  const connectedBots = async (tenantId: string): Promise<number | undefined> => {
    const { botStatus } = proxyActivities<BotPodActivities>({
      taskQueue: botPodTaskQueue(tenantId), scheduleToStartTimeout: '3 seconds', startToCloseTimeout: '5 seconds', retry: { maximumAttempts: 1 },
    });
    try {
      return (await botStatus({ tenantId })).filter((bot) => bot.state === 'open').length;
    } catch {
      return undefined; // the pod did not answer: the status keeps its last count
    }
  };

  const snapshotError = (error: unknown, tenantId: string) => error instanceof TimeoutFailure
    ? `no bot pod answered on ${botPodTaskQueue(tenantId)} within ${SNAPSHOT_POD_WAIT_SECONDS} s (paused, or not running?)`
    : failureReason(error);

  const tearDown = async (current: BotTenantRef, observed: NonNullable<ObservedBotTenant>): Promise<PassOutcome> => {
    if (observed.onDelete.snapshot === 'Required' && snapshot === null) {
      const at = new Date().toISOString();
      const key = sessionSnapshotKey(current.tenantId, at);
      try {
        await pod.snapshotSessions({ tenantId: current.tenantId, objectKey: key });
        snapshot = { key, at };
      } catch (error) {
        await kube.writeBotTenantStatus({
          ref: current, applyError: null, tenantLinkError: null, snapshotError: snapshotError(error, current.tenantId),
        });
        return 'retry';
      }
    }
    await kube.writeBotTenantStatus({
      ref: current, applyError: null, tenantLinkError: null, snapshotError: null, ...(snapshot === null ? {} : { lastSnapshot: snapshot }),
    });
    await kube.deleteBotPodObjects({ ref: current, deleteVolumes: observed.onDelete.volume === 'Delete' });
    await kube.removeBotTenantFinalizer(current);
    return 'gone';
  };

  const converge = async (current: BotTenantRef, observed: NonNullable<ObservedBotTenant>): Promise<PassOutcome> => {
    if (!observed.finalized) await kube.ensureBotTenantFinalizer(current);
    let tenantLinkError: string | null = null;
    if (!linked) {
      try {
        await platform.linkTenantRow({ tenantId: current.tenantId, resourceName: current.name, displayName: observed.displayName });
        linked = true;
      } catch (error) {
        tenantLinkError = failureReason(error);
      }
    }
    let applyError: string | null = null;
    try {
      await kube.applyBotPodObjects(current);
    } catch (error) {
      applyError = failureReason(error);
    }
    const bots = observed.podReady ? await connectedBots(current.tenantId) : undefined;
    await kube.writeBotTenantStatus({
      ref: current, applyError, tenantLinkError, snapshotError: null, ...(bots === undefined ? {} : { connectedBots: bots }),
    });
    return applyError === null && tenantLinkError === null ? 'settled' : 'retry';
  };

  const pass = async (): Promise<PassOutcome> => {
    const current = ref;
    const observed = await kube.readBotTenant(current);
    if (observed === null) return 'gone';
    if (observed.invalid !== null) {
      await kube.writeBotTenantStatus({ ref: current, applyError: observed.invalid, tenantLinkError: null, snapshotError: null });
      return 'settled'; // nothing to retry until someone edits it
    }
    if (observed.deleting) return observed.finalized ? tearDown(current, observed) : 'gone';
    return converge(current, observed);
  };

  let failures = 0;
  for (let passes = 1; ; passes += 1) {
    await condition(() => changed, failures === 0 ? RESYNC : retryDelayMs(failures));
    changed = false;
    let outcome: PassOutcome;
    try {
      outcome = await pass();
    } catch (error) {
      // An activity out of retries (the operator away, the API server down): try again later.
      log.warn('tenant reconcile pass failed', { tenantId: input.tenantId, reason: failureReason(error, { origin: true }) });
      outcome = 'retry';
    }
    if (outcome === 'gone') return;
    failures = outcome === 'retry' ? failures + 1 : 0;
    if (!changed && (workflowInfo().continueAsNewSuggested || passes >= (input.passesPerRun ?? PASSES_PER_RUN))) {
      await continueAsNew<typeof botTenantReconcile>({ ...input, ...ref });
    }
  }
}
