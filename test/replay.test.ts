// Determinism: the workflow histories recorded by the tests and committed under test/histories
// replay against the current workflow code. A change that would break a running workflow fails here.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';

describe('workflow histories', () => {
  it('replay without nondeterminism against the current workflow code', () => {
    const committed = readdirSync(new URL('./histories/', import.meta.url)).filter((name) => name.endsWith('.json'));
    expect(committed.length).toBeGreaterThanOrEqual(4);
    const output = execFileSync(process.execPath, ['test/support/replay-histories.ts'], { encoding: 'utf8' });
    expect(output).toContain(`replayed ${committed.length}, failed 0`);
  }, 120_000);
});
