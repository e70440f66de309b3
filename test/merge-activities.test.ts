// The worker's activities are merged by name: a name two groups declare must stop the worker, not
// let one activity silently replace the other (tsc refuses it; this is the guard behind a cast).
import { describe, expect, it } from '@jest/globals';
import { mergeActivities } from '../activities/merge-activities.ts';

describe('mergeActivities', () => {
  it('keeps every activity of every group', async () => {
    const merged = mergeActivities({ first: async () => 1 }, { second: async () => 2 });
    expect([await merged.first(), await merged.second()]).toEqual([1, 2]);
  });

  it('refuses two groups declaring the same activity name', () => {
    const groups = [{ ingestInbound: async () => 1 }, { ingestInbound: async () => 2 }] as unknown as [object, object];
    expect(() => mergeActivities(...groups)).toThrow('Two activity groups both declare the activity ingestInbound');
  });
});
