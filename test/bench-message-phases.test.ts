// The benchmark's reading of where a message's time goes, on a committed history of a lead that
// qualified (ten messages, one of them starting the owner notification beside its reply).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { messagePhases, summarizePhases } from '../bench/message-phases.ts';

const { history } = JSON.parse(readFileSync(new URL('./histories/lead-conversation-qualified.0.json', import.meta.url), 'utf8')) as { history: unknown };
const events = historyFromJSON(history).events ?? [];

describe('bench: the phases of a message, from its lead\'s history', () => {
  it('finds every replied message, with phases that add up to its time from signal to recorded reply', () => {
    const phases = messagePhases(events);
    expect(phases.map((p) => p.key).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `5511944443333-${i}`).sort());
    for (const p of phases) {
      for (const value of [p.toReplyScheduledMs, p.replyScheduleToStartMs, p.replySendMs, p.toRecordedMs]) expect(value).toBeGreaterThanOrEqual(0);
      expect(Math.abs(p.toReplyScheduledMs + p.replyScheduleToStartMs + p.replySendMs + p.toRecordedMs - p.totalMs)).toBeLessThanOrEqual(2);
    }
  });

  it('names the slowest message and the median of each phase', () => {
    const phases = messagePhases(events);
    const summary = summarizePhases(phases)!;
    expect(summary.messages).toBe(10);
    expect(summary.slowest.totalMs).toBe(Math.max(...phases.map((p) => p.totalMs)));
    expect(summary.median.totalMs).toBeLessThanOrEqual(summary.slowest.totalMs);
    expect(summarizePhases([])).toBeNull();
  });
});
