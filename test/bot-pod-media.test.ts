// The bot pod's sendMedia activity on the real S3 server and the simulator transport: media from
// the tenant's own prefix is sent once however often the activity is retried; another tenant's
// object, a missing one or a task addressed to another tenant fails at once with the reason.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { createBotPodActivities } from '../bot-pods/activities.ts';
import { createWriteGate } from '../bot-pods/durable-file.ts';
import { createMediaReader } from '../bot-pods/media.ts';
import { openSentLog } from '../bot-pods/sent-log.ts';
import { restoreSessions, snapshotSessions } from '../bot-pods/session-snapshot.ts';
import { createSimulatorTransport } from '../bot-pods/simulator-transport.ts';
import { loadConfig } from '../core/config.ts';
import { loadKeyring } from '../core/crypto/keyring.ts';
import { createObjectStoreClient } from '../core/object-store.ts';

const config = loadConfig();
const s3 = createObjectStoreClient(config.s3);
afterAll(() => s3.destroy());

describe('sendMedia', () => {
  it('sends media from the tenant\'s prefix once, and refuses another tenant\'s object or a missing one', async () => {
    const tenantId = randomUUID();
    const botId = randomUUID();
    const dir = mkdtempSync(join(tmpdir(), 'pod-media-'));
    const whatsapp = createSimulatorTransport(botId, join(dir, 'network.jsonl'), { onMessage: async () => undefined, onStatus: () => undefined });
    await whatsapp.start();
    const keyring = loadKeyring(config.encryption);
    const sessionsDir = join(dir, 'sessions');
    const gate = createWriteGate();
    const activities = createBotPodActivities({
      tenantId,
      transports: new Map([[botId, whatsapp]]),
      sentLog: openSentLog(join(dir, 'sent-log.jsonl')),
      sessions: {
        snapshot: (objectKey) => snapshotSessions({ sessionsDir, gate, s3, bucket: config.s3.bucket, objectKey, keyring }),
        restore: (objectKey) => restoreSessions({ sessionsDir, s3, bucket: config.s3.bucket, objectKey, keyring }),
      },
      readMedia: createMediaReader(s3, config.s3.bucket),
    });
    const image = Buffer.from('89504e470d0a1a0a' + 'ab'.repeat(500), 'hex');
    const objectKey = `tenants/${tenantId}/products/plan.png`;
    await s3.send(new PutObjectCommand({ Bucket: config.s3.bucket, Key: objectKey, Body: image, ContentType: 'image/png' }));
    const send = { tenantId, botId, toWaId: '5511911112222', objectKey, mimeType: 'image/png', caption: 'Plano Pro', idempotencyKey: 'catalog:plan:1' };

    const first = await activities.sendMedia(send);
    const retried = await activities.sendMedia(send);
    expect(retried).toEqual({ waMessageId: first.waMessageId, alreadySent: true });
    expect(whatsapp.sent()).toEqual([expect.objectContaining({
      jid: '5511911112222@s.whatsapp.net', text: 'Plano Pro',
      media: { mimeType: 'image/png', bytes: image.length, sha256: createHash('sha256').update(image).digest('hex'), fileName: null },
    })]);

    const otherTenant = await activities.sendMedia({ ...send, objectKey: `tenants/${randomUUID()}/products/plan.png`, idempotencyKey: 'k2' }).catch((error: unknown) => error);
    expect(otherTenant).toBeInstanceOf(ApplicationFailure);
    expect(otherTenant).toMatchObject({ type: 'WrongTenant', nonRetryable: true });
    const missing = await activities.sendMedia({ ...send, objectKey: `tenants/${tenantId}/products/none.png`, idempotencyKey: 'k3' }).catch((error: unknown) => error);
    expect(missing).toMatchObject({ type: 'MediaNotFound', nonRetryable: true });
    const misrouted = await activities.sendText({ tenantId: randomUUID(), botId, toWaId: '5511911112222', text: 'hi', idempotencyKey: 'k4' }).catch((error: unknown) => error);
    expect(misrouted).toMatchObject({ type: 'WrongTenant', nonRetryable: true });
    expect(whatsapp.sent()).toHaveLength(1);
    await whatsapp.stop();
  });
});
