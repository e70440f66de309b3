// The manifest of a backup: what was written, how to read it, and what the database held in the
// dump's snapshot. It is written last (a backup without one is incomplete by definition) and
// authenticated with a MAC keyed from the encryption key, so it cannot be edited to match a
// tampered object.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Keyring } from '../crypto/keyring.ts';
import { IntegrityError } from '../crypto/chunked-aead.ts';
import { BACKUP_KINDS } from '../temporal/backups.ts';

const storedObject = z.strictObject({
  key: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export const tableFingerprint = z.strictObject({
  table: z.string().min(1),
  rows: z.number().int().nonnegative(),
  /** Order-independent sum of the rows' 64-bit hashes (see table-fingerprints.ts). */
  checksum: z.string().regex(/^-?\d+$/),
});
export type TableFingerprint = z.infer<typeof tableFingerprint>;

export const sessionEntry = z.union([
  z.strictObject({ tenantId: z.uuid(), object: storedObject, files: z.number().int().nonnegative() }),
  z.strictObject({ tenantId: z.uuid(), missing: z.string().min(1) }),
]);
export type SessionEntry = z.infer<typeof sessionEntry>;

export const manifestBody = z.strictObject({
  format: z.literal('botinteligente-backup/1'),
  backupId: z.string(),
  kind: z.enum(BACKUP_KINDS),
  startedAt: z.iso.datetime(),
  completedAt: z.iso.datetime(),
  keyId: z.string().min(1),
  postgres: z.strictObject({ serverVersion: z.string(), schemaVersion: z.number().int().nonnegative() }),
  database: z.strictObject({
    object: storedObject,
    compression: z.enum(['zstd', 'gzip']),
    dumpBytes: z.number().int().nonnegative(),
    /** Tables whose rows the dump leaves out (the catalog describes the bucket, not the data). */
    excludedData: z.array(z.string()),
    tables: z.array(tableFingerprint),
  }),
  sessions: z.array(sessionEntry),
});
export type ManifestBody = z.infer<typeof manifestBody>;
export type Manifest = ManifestBody & { readonly mac: string };

const macKey = (keyring: Keyring, keyId: string) =>
  Buffer.from(hkdfSync('sha256', keyring.key(keyId), Buffer.alloc(0), 'botinteligente backup manifest mac v1', 32));

const macOf = (keyring: Keyring, body: ManifestBody) =>
  createHmac('sha256', macKey(keyring, body.keyId)).update(JSON.stringify(manifestBody.parse(body))).digest('hex');

export const sealManifest = (keyring: Keyring, body: ManifestBody): string =>
  `${JSON.stringify({ ...manifestBody.parse(body), mac: macOf(keyring, body) }, null, 2)}\n`;

/** Parses and authenticates a stored manifest; anything else is an IntegrityError with the reason. */
export const openManifest = (keyring: Keyring, text: string): Manifest => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new IntegrityError('the manifest is not JSON', error);
  }
  const { mac, ...rest } = (parsed ?? {}) as { mac?: unknown };
  const body = manifestBody.safeParse(rest);
  if (!body.success || typeof mac !== 'string' || !/^[0-9a-f]{64}$/.test(mac)) {
    throw new IntegrityError(`the manifest is malformed: ${body.success ? 'no MAC' : body.error.issues[0]?.path.join('.')}`);
  }
  let expected: string;
  try {
    expected = macOf(keyring, body.data);
  } catch (error) {
    throw new IntegrityError(`the manifest names key ${body.data.keyId}, which is not configured`, error);
  }
  if (!timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(mac, 'hex'))) {
    throw new IntegrityError('the manifest fails authentication: it was altered or written with another key');
  }
  return { ...body.data, mac };
};

/** Every object a manifest claims, with its expected size and hash. */
export const manifestObjects = (manifest: ManifestBody) => [
  manifest.database.object,
  ...manifest.sessions.flatMap((entry) => ('object' in entry ? [entry.object] : [])),
];
