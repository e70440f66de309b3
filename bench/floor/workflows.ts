// The engine floor: the lead conversation's shape (one workflow per lead, fed by signalWithStart,
// messages handled one at a time) with a single no-op activity instead of the real work.
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import { FLOOR_REMOTE_TASK_QUEUE, type FloorActivities } from './activities.ts';

export const floorInbound = defineSignal<[{ key: string }]>('inbound');

const handleEach = async (expected: number, handle: (key: string) => Promise<void>) => {
  const pending: string[] = [];
  setHandler(floorInbound, ({ key }) => { pending.push(key); });
  for (let handled = 0; handled < expected; handled += 1) {
    await condition(() => pending.length > 0);
    await handle(pending.shift()!);
  }
};

// On the workflow's own task queue: the server hands the activity to this worker with the workflow
// task's completion (eager dispatch), the cheapest an activity can be.
const { noop } = proxyActivities<FloorActivities>({ startToCloseTimeout: '10 seconds' });
// On another process's queue, as the lead conversation's sendText must be (it needs the bot pod).
const { noop: remoteNoop } = proxyActivities<FloorActivities>({ startToCloseTimeout: '10 seconds', taskQueue: FLOOR_REMOTE_TASK_QUEUE });

export async function benchFloor(input: { expected: number }): Promise<void> {
  await handleEach(input.expected, noop);
}

export async function benchFloorRemote(input: { expected: number }): Promise<void> {
  await handleEach(input.expected, remoteNoop);
}
