// Snapshots of a pod's WhatsApp sessions: every file under the sessions directory, read while no
// auth write is in flight (one consistent state), packed as tar, gzip-compressed, encrypted in
// authenticated chunks and streamed to S3. A restore verifies everything before the files appear,
// and only onto an empty sessions directory.
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import * as tar from 'tar-stream';
import { decryptStream, encryptStream, IntegrityError } from '../core/crypto/chunked-aead.ts';
import type { Keyring } from '../core/crypto/keyring.ts';
import { measure } from '../core/streams/measure.ts';
import { syncDirectory, type WriteGate } from './durable-file.ts';
import { RestoreRefusedError } from './restore-refused-error.ts';

export type SnapshotResult = { readonly objectKey: string; readonly files: number; readonly bytes: number; readonly sha256: string };

const listFiles = async (root: string, prefix = ''): Promise<string[]> => {
  const entries = await readdir(join(root, prefix), { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const nested = await Promise.all(entries.map((entry) => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return listFiles(root, path);
    return entry.isFile() && !entry.name.endsWith('.tmp') ? [path] : [];
  }));
  return nested.flat().sort();
};

export const snapshotSessions = async (deps: {
  sessionsDir: string; gate: WriteGate; s3: S3Client; bucket: string; objectKey: string; keyring: Keyring;
}): Promise<SnapshotResult> => {
  const files = await deps.gate.exclusive(async () => {
    const paths = await listFiles(deps.sessionsDir);
    return Promise.all(paths.map(async (path) => ({ path, data: await readFile(join(deps.sessionsDir, path)) })));
  });
  const pack = tar.pack();
  for (const file of files) pack.entry({ name: file.path, size: file.data.length, mode: 0o600, mtime: new Date(0) }, file.data);
  pack.finalize();
  const measured = measure();
  const body = pack.pipe(createGzip()).pipe(encryptStream(deps.keyring)).pipe(measured.stream);
  await new Upload({
    client: deps.s3,
    params: { Bucket: deps.bucket, Key: deps.objectKey, Body: body, ContentType: 'application/octet-stream' },
  }).done();
  return { objectKey: deps.objectKey, files: files.length, ...measured.result() };
};

/** A tar entry name that stays inside the target directory. */
const safeRelativePath = (name: string): string => {
  const path = normalize(name);
  if (path.startsWith(sep) || path.startsWith('..') || path.split(sep).includes('..') || path === '.') {
    throw new IntegrityError(`the snapshot names a path outside the sessions directory: ${name}`);
  }
  return path;
};

export const restoreSessions = async (deps: {
  sessionsDir: string; s3: S3Client; bucket: string; objectKey: string; keyring: Keyring;
}): Promise<{ readonly files: number }> => {
  if ((await listFiles(deps.sessionsDir)).length > 0) {
    throw new RestoreRefusedError(`${deps.sessionsDir} is not empty: sessions are restored only onto an empty volume`);
  }
  const object = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: deps.objectKey }));
  // Staged beside the target, moved into place only once every chunk verified.
  const staging = `${deps.sessionsDir}.restore-${randomUUID()}`;
  await mkdir(staging, { recursive: true, mode: 0o700 });
  let files = 0;
  try {
    const extract = tar.extract();
    extract.on('entry', (header, stream, next) => {
      void (async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        if (header.type !== 'file') return next();
        const target = join(staging, safeRelativePath(header.name));
        await mkdir(dirname(target), { recursive: true, mode: 0o700 });
        await writeFile(target, Buffer.concat(chunks), { mode: 0o600 });
        const handle = await open(target, 'r');
        await handle.sync();
        await handle.close();
        files += 1;
        next();
      })().catch((error: unknown) => next(error as Error));
    });
    await pipeline(object.Body as Readable, decryptStream(deps.keyring), createGunzip(), extract);
    await rm(deps.sessionsDir, { recursive: true, force: true });
    await rename(staging, deps.sessionsDir);
    await syncDirectory(dirname(deps.sessionsDir));
    return { files };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (error instanceof IntegrityError) throw new RestoreRefusedError(`snapshot ${deps.objectKey} refused: ${error.message}`, error);
    if ((error as { code?: string }).code === 'Z_DATA_ERROR') throw new RestoreRefusedError(`snapshot ${deps.objectKey} refused: not a valid compressed archive`, error);
    throw error;
  }
};
