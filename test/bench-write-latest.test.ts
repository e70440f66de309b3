import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLatest } from '../bench/write-latest.ts';

describe('bench results (latest.json)', () => {
  const machine = { cpus: 2 };

  it('replaces only the sections a run measured, and keeps when each was measured', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'bench-')), 'latest.json');
    writeFileSync(path, JSON.stringify({ measuredAt: '2026-11-20T00:00:00.000Z', machine, apiLeads: { old: true }, backup: { old: true }, endToEnd: [{ leads: 1 }] }));
    writeLatest(path, { measuredAt: '2026-11-26T00:00:00.000Z', machine, apiLeads: { old: false }, backup: undefined, endToEnd: [] });
    const latest = JSON.parse(readFileSync(path, 'utf8'));
    expect(latest.apiLeads).toEqual({ old: false });
    expect(latest.backup).toEqual({ old: true });
    expect(latest.endToEnd).toEqual([{ leads: 1 }]);
    expect(latest.sectionsMeasuredAt).toEqual({ apiLeads: '2026-11-26T00:00:00.000Z', backup: '2026-11-20T00:00:00.000Z', endToEnd: '2026-11-20T00:00:00.000Z' });
  });

  it('starts the file when there is none', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'bench-')), 'latest.json');
    writeLatest(path, { measuredAt: '2026-11-26T00:00:00.000Z', machine, podMemory: { rssMb: 140 } });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      measuredAt: '2026-11-26T00:00:00.000Z', machine, podMemory: { rssMb: 140 }, sectionsMeasuredAt: { podMemory: '2026-11-26T00:00:00.000Z' },
    });
  });
});
