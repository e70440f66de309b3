// The engine floor: the lead conversation's shape (one workflow per lead, fed by signalWithStart,
// messages handled one at a time) with a single no-op activity instead of the real work; and the
// shaped floor, with the lead conversation's own steps as no-ops.
import { condition, defineSignal, proxyActivities, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import { FLOOR_REMOTE_TASK_QUEUE, type FloorActivities } from './activities.ts';

export const floorInbound = defineSignal<[{ key: string }]>('inbound');

const handleEach = async (expected: number, handle: (key: string, anotherQueued: () => boolean) => Promise<void>) => {
  const pending: string[] = [];
  setHandler(floorInbound, ({ key }) => { pending.push(key); });
  for (let handled = 0; handled < expected; handled += 1) {
    await condition(() => pending.length > 0);
    await handle(pending.shift()!, () => pending.length > 0);
  }
};

// On the workflow's own task queue: the server hands the activity to this worker with the workflow
// task's completion (eager dispatch), the cheapest an activity can be.
const { noop } = proxyActivities<FloorActivities>({ startToCloseTimeout: '10 seconds' });
// On another process's queue, as the lead conversation's sendText must be (it needs the bot pod).
const { noop: remoteNoop } = proxyActivities<FloorActivities>({ startToCloseTimeout: '10 seconds', taskQueue: FLOOR_REMOTE_TASK_QUEUE });

export async function benchFloor(input: { expected: number }): Promise<void> {
  await handleEach(input.expected, (key) => noop(key));
}

export async function benchFloorRemote(input: { expected: number }): Promise<void> {
  await handleEach(input.expected, (key) => remoteNoop(key));
}

const { noop: localNoop, pass: localPass } = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '10 seconds' });
const { pass: remotePass } = proxyActivities<FloorActivities>({ startToCloseTimeout: '10 seconds', taskQueue: FLOOR_REMOTE_TASK_QUEUE });

/**
 * The steps the lead conversation keeps for its guarantees, each a no-op: the ingest (a local
 * activity: one transaction before any send), the send (an activity in another process, as the bot
 * pod's), and the reply's record (a local activity, run with the next message's ingest when that
 * one is already queued). A message is done when its reply is recorded, as the platform's.
 */
export async function benchFloorShaped(input: { expected: number }): Promise<void> {
  let unrecorded: string | undefined;
  await handleEach(input.expected, async (key, anotherQueued) => {
    await (unrecorded === undefined ? localPass() : localNoop(unrecorded));
    unrecorded = undefined;
    await remotePass();
    if (anotherQueued()) unrecorded = key;
    else await localNoop(key);
  });
}
