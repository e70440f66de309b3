// Reading a backup back: the manifest (authenticated), then every object it claims, checked
// against its size and SHA-256 and decrypted (every chunk's tag) and decompressed to the end.
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { Writable, type Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { manifestKey } from '../../core/object-keys.ts';
import { openManifest, type Manifest } from '../../core/backups/manifest.ts';
import { decryptStream, IntegrityError } from '../../core/crypto/chunked-aead.ts';
import type { Keyring } from '../../core/crypto/keyring.ts';
import { PlatformError } from '../../core/errors.ts';
import { measure } from '../../core/streams/measure.ts';
import { decompressor } from './compression.ts';

/** A backup that must not be restored; the message says why. Never retried. */
export class BackupRefusedError extends PlatformError {
  constructor(message: string, cause?: unknown) {
    super('BACKUP_REFUSED', message, { cause });
  }
}

const isMissing = (error: unknown) => error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey';

export const readManifest = async (deps: { s3: S3Client; bucket: string; keyring: Keyring }, backupId: string): Promise<Manifest> => {
  let text: string;
  try {
    const object = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: manifestKey(backupId) }));
    text = await object.Body!.transformToString();
  } catch (error) {
    if (isMissing(error)) throw new BackupRefusedError(`backup ${backupId} has no manifest: it is incomplete (failed, deleted or still running)`, error);
    throw error;
  }
  try {
    const manifest = openManifest(deps.keyring, text);
    if (manifest.backupId !== backupId) throw new IntegrityError(`the manifest describes backup ${manifest.backupId}, not ${backupId}`);
    return manifest;
  } catch (error) {
    if (error instanceof IntegrityError) throw new BackupRefusedError(`backup ${backupId} refused: ${error.message}`, error);
    throw error;
  }
};

/**
 * Streams one stored object through its checks into `sink` (a discarding one to verify, pg_restore
 * to restore). Fails with a BackupRefusedError naming the object and what is wrong.
 */
export const readObjectInto = async (
  deps: { s3: S3Client; bucket: string; keyring: Keyring },
  expected: { key: string; bytes: number; sha256: string }, decompress: Transform, sink: Writable,
): Promise<void> => {
  let body: Readable;
  try {
    body = (await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: expected.key }))).Body as Readable;
  } catch (error) {
    if (isMissing(error)) throw new BackupRefusedError(`object ${expected.key} is missing from the bucket`, error);
    throw error;
  }
  const measured = measure();
  try {
    await pipeline(body, measured.stream, decryptStream(deps.keyring), decompress, sink);
  } catch (error) {
    if (error instanceof IntegrityError) throw new BackupRefusedError(`object ${expected.key} refused: ${error.message}`, error);
    if (/^Z_|ZSTD|ERR_ZLIB/.test(String((error as { code?: string }).code))) {
      throw new BackupRefusedError(`object ${expected.key} refused: it does not decompress`, error);
    }
    throw error;
  }
  const { bytes, sha256 } = measured.result();
  if (bytes !== expected.bytes || sha256 !== expected.sha256) {
    throw new BackupRefusedError(`object ${expected.key} refused: ${bytes} bytes with SHA-256 ${sha256}, the manifest says ${expected.bytes} bytes with ${expected.sha256}`);
  }
};

const discard = () => new Writable({ write(_chunk, _encoding, callback) { callback(); } });

/** Checks the manifest and every object; touches no database. Returns the manifest. */
export const verifyBackup = async (deps: { s3: S3Client; bucket: string; keyring: Keyring }, backupId: string, onObject?: (key: string) => void): Promise<Manifest> => {
  const manifest = await readManifest(deps, backupId);
  await readObjectInto(deps, manifest.database.object, decompressor(manifest.database.compression), discard());
  onObject?.(manifest.database.object.key);
  for (const entry of manifest.sessions) {
    if (!('object' in entry)) continue;
    await readObjectInto(deps, entry.object, createGunzip(), discard());
    onObject?.(entry.object.key);
  }
  return manifest;
};
