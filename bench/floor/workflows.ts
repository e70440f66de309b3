// The engine floor: the lead conversation's shape (one workflow per lead, fed by signalWithStart,
// messages handled one at a time) with a single no-op activity instead of the real work.
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { FloorActivities } from './activities.ts';

export const floorInbound = defineSignal<[{ key: string }]>('inbound');

const { noop } = proxyActivities<FloorActivities>({ startToCloseTimeout: '10 seconds' });

export async function benchFloor(input: { expected: number }): Promise<void> {
  const pending: string[] = [];
  setHandler(floorInbound, ({ key }) => { pending.push(key); });
  for (let handled = 0; handled < input.expected; handled += 1) {
    await condition(() => pending.length > 0);
    await noop(pending.shift()!);
  }
}
