// End to end through the real worker process: Temporal dev server → worker → Postgres and S3.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import { loadConfig } from '../core/config.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { selfCheckWorkflowId } from '../core/temporal/self-check.ts';
import type { platformSelfCheck } from '../workflows/self-check.ts';

const config = loadConfig();
let client: Client;

beforeAll(async () => {
  client = await connectTemporalClient(config.temporal);
});
afterAll(async () => {
  await client.connection.close();
});

describe('platform worker', () => {
  it('runs the self-check workflow against the real services and stops gracefully on SIGTERM', async () => {
    const worker = spawn(process.execPath, ['worker/main.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    worker.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    worker.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(worker, 'exit');

    try {
      const report = await client.workflow.execute<typeof platformSelfCheck>('platformSelfCheck', {
        taskQueue: config.temporal.taskQueue,
        workflowId: selfCheckWorkflowId(randomUUID()),
        workflowExecutionTimeout: '50 seconds',
      });
      expect(report.database.schemaVersion).toBeGreaterThan(0);
      expect(report.database.appliedMigrations).toBe(report.database.schemaVersion);
      expect(report.database.serverVersion).toMatch(/^\d+\.\d+/);
      expect(report.objectStore).toEqual({ bucket: config.s3.bucket, reachable: true });
    } finally {
      worker.kill('SIGTERM');
    }
    const [code, signal] = (await exited) as [number | null, string | null];
    expect({ code, signal, output: code === 0 ? '' : output }).toEqual({ code: 0, signal: null, output: '' });
  }, 90_000);
});
