// Session snapshots through the real S3 server: snapshot then restore onto an empty directory is
// byte-identical; a flipped byte, a truncation, a wrong key or a non-empty target is refused and
// leaves nothing behind.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { BufferJSON, initAuthCreds } from '@whiskeysockets/baileys';
import { openAuthStore } from '../bot-pods/auth-store.ts';
import { createWriteGate } from '../bot-pods/durable-file.ts';
import { RestoreRefusedError } from '../bot-pods/restore-refused-error.ts';
import { restoreSessions, snapshotSessions } from '../bot-pods/session-snapshot.ts';
import { loadConfig } from '../core/config.ts';
import { loadKeyring } from '../core/crypto/keyring.ts';
import { createObjectStoreClient } from '../core/object-store.ts';

const config = loadConfig();
const s3 = createObjectStoreClient(config.s3);
const keyring = loadKeyring(config.encryption);
const bucket = config.s3.bucket;
afterAll(() => s3.destroy());

const filesUnder = (root: string, prefix = ''): Record<string, string> => Object.fromEntries(
  readdirSync(join(root, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? Object.entries(filesUnder(root, path)) : [[path, readFileSync(join(root, path)).toString('base64')]];
  }),
);

/** Two bots' sessions, as Baileys would leave them after pairing. */
const sessionsOfTwoBots = async () => {
  const sessionsDir = join(mkdtempSync(join(tmpdir(), 'sessions-')), 'sessions');
  const gate = createWriteGate();
  for (const botId of ['bot-a', 'bot-b']) {
    const store = await openAuthStore(join(sessionsDir, botId), gate);
    Object.assign(store.state.creds, initAuthCreds());
    await store.saveCreds();
    await store.state.keys.set({ 'pre-key': { 1: { public: Buffer.alloc(32, 7), private: Buffer.alloc(32, 9) } }, session: { '5511.0': Buffer.from(botId) } });
  }
  return { sessionsDir, gate };
};
const objectBytes = async (key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
const emptyTarget = () => join(mkdtempSync(join(tmpdir(), 'restore-')), 'sessions');

describe('session snapshots', () => {
  it('restore onto an empty directory byte-identical, and the restored creds load in the auth store', async () => {
    const { sessionsDir, gate } = await sessionsOfTwoBots();
    const objectKey = `test/sessions/${Date.now()}.tar.gz.enc`;
    const snapshot = await snapshotSessions({ sessionsDir, gate, s3, bucket, objectKey, keyring });
    expect(snapshot).toMatchObject({ objectKey, files: 6 });
    expect((await objectBytes(objectKey)).subarray(0, 8).toString()).toBe('BIENC001');

    const target = emptyTarget();
    expect(await restoreSessions({ sessionsDir: target, s3, bucket, objectKey, keyring })).toEqual({ files: 6 });
    expect(filesUnder(target)).toEqual(filesUnder(sessionsDir));
    const restored = await openAuthStore(join(target, 'bot-a'));
    expect(JSON.stringify(restored.state.creds, BufferJSON.replacer)).toBe(readFileSync(join(sessionsDir, 'bot-a', 'creds.json'), 'utf8'));
  });

  it('refuse a flipped byte, a truncation, a wrong key and a non-empty target, leaving nothing behind', async () => {
    const { sessionsDir, gate } = await sessionsOfTwoBots();
    const objectKey = `test/sessions/${Date.now()}-good.tar.gz.enc`;
    await snapshotSessions({ sessionsDir, gate, s3, bucket, objectKey, keyring });
    const good = await objectBytes(objectKey);
    const flipped = Buffer.from(good);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x01;
    const variants = { flipped, truncated: good.subarray(0, good.length - 20) };
    for (const [name, body] of Object.entries(variants)) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${objectKey}.${name}`, Body: body }));
      const target = emptyTarget();
      await expect(restoreSessions({ sessionsDir: target, s3, bucket, objectKey: `${objectKey}.${name}`, keyring }))
        .rejects.toThrow(RestoreRefusedError);
      expect(existsSync(target)).toBe(false);
      expect(readdirSync(join(target, '..'))).toEqual([]);
    }

    const otherKey = loadKeyring({ keys: `${keyring.activeKeyId}:${Buffer.alloc(32, 1).toString('base64')}`, keysFile: '/nonexistent', activeKeyId: null });
    await expect(restoreSessions({ sessionsDir: emptyTarget(), s3, bucket, objectKey, keyring: otherKey })).rejects.toThrow(/fails authentication/);
    await expect(restoreSessions({ sessionsDir, s3, bucket, objectKey, keyring })).rejects.toThrow(/not empty/);
  });
});
