// The stack harness: reuse of running services, real health, and stopping without orphans.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { loadConfig } from '../core/config.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { startStack } from '../stack/harness.ts';
import { isAlive, startService, stopService, waitUntilHealthy } from '../stack/processes.ts';

const config = loadConfig();

describe('stack harness', () => {
  it('reuses the running services and stops none of them', async () => {
    const handle = await startStack(config, { log: () => undefined });
    expect(handle.reused).toEqual({ postgres: true, temporal: true, s3: true, mailpit: true });
    await handle.stop();
    const again = await startStack(config, { log: () => undefined });
    expect(again.reused).toEqual({ postgres: true, temporal: true, s3: true, mailpit: true });
  });

  it('registers the TenantId, BotId and LeadId search attributes', async () => {
    const { connection } = await connectTemporalClient(config.temporal);
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: config.temporal.namespace });
    await connection.close();
    expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(['TenantId', 'BotId', 'LeadId']));
  });

  it('serves real S3 objects from the bucket', async () => {
    const s3 = createObjectStoreClient(config.s3);
    const key = `test/stack-${Date.now()}.txt`;
    await s3.send(new PutObjectCommand({ Bucket: config.s3.bucket, Key: key, Body: 'round trip' }));
    const object = await s3.send(new GetObjectCommand({ Bucket: config.s3.bucket, Key: key }));
    expect(await object.Body?.transformToString()).toBe('round trip');
    s3.destroy();
  });

  it("serves mailpit's web UI, whose page loads its script and stylesheet", async () => {
    const { urls } = await startStack(config, { log: () => undefined });
    const page = await (await fetch(`${urls.mailpit}/`)).text();
    const assets = [...page.matchAll(/(?:src|href)="?(\/dist\/[^"\s?>]+)/g)].map(([, path]) => path);
    expect(assets).toEqual(expect.arrayContaining(['/dist/app.js', '/dist/app.css']));
    for (const path of assets) expect({ path, status: (await fetch(`${urls.mailpit}${path}`)).status }).toEqual({ path, status: 200 });
  });

  it('stops a service together with every process it spawned', async () => {
    const stackDir = mkdtempSync(join(tmpdir(), 'stack-'));
    const service = startService(stackDir, 'tree', 'bash', ['-c', 'sleep 300 & sleep 300 & echo started; wait']);
    await waitUntilHealthy(stackDir, 'tree', async () => {
      if (!readFileSync(join(stackDir, 'logs', 'tree.log'), 'utf8').includes('started')) throw new Error('not yet');
    }, 10_000);
    const children = execFileSync('pgrep', ['-g', String(service.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number);
    expect(children.length).toBeGreaterThanOrEqual(3);
    await stopService(stackDir, 'tree', 'SIGTERM', 2_000);
    await sleep(100);
    expect(children.filter(isAlive)).toEqual([]);
    rmSync(stackDir, { recursive: true });
  });

  it('explains a service that never becomes healthy, with the end of its log', async () => {
    const stackDir = mkdtempSync(join(tmpdir(), 'stack-'));
    startService(stackDir, 'broken', 'bash', ['-c', 'echo "FATAL: port already in use"; sleep 30']);
    await expect(waitUntilHealthy(stackDir, 'broken', async () => { throw new Error('connection refused'); }, 1_000))
      .rejects.toThrow(/broken did not become healthy within 1s: Error: connection refused[\s\S]*FATAL: port already in use/);
    await stopService(stackDir, 'broken');
    rmSync(stackDir, { recursive: true });
  });
});
