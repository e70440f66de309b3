// Streaming authenticated encryption (AES-256-GCM in chunks) for backups and session snapshots.
// Each chunk has its own tag, so a stream of any size is verified as it is read, and a flipped
// byte, a reordered, dropped or appended chunk, a truncation or a wrong key is refused.
//
// Layout: header | chunk 0 | chunk 1 | … | last chunk, where
//   header = "BIENC001" | key id length (1 byte) | key id | chunk size (uint32 BE) | nonce prefix (8 bytes)
//   chunk  = AES-256-GCM(plaintext of chunk size bytes, or fewer for the last) | tag (16 bytes)
//   nonce  = nonce prefix | chunk index (uint32 BE); AAD = header | 1 for the last chunk, else 0.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { PlatformError } from '../errors.ts';
import type { Keyring } from './keyring.ts';

const MAGIC = Buffer.from('BIENC001');
const TAG_BYTES = 16;
const DEFAULT_CHUNK_BYTES = 64 * 1024;
const MAX_CHUNK_BYTES = 16 * 1024 * 1024;

export class IntegrityError extends PlatformError {
  constructor(message: string, cause?: unknown) {
    super('INTEGRITY', message, { cause });
  }
}

const nonceOf = (prefix: Buffer, index: number) => {
  const nonce = Buffer.alloc(12);
  prefix.copy(nonce, 0);
  nonce.writeUInt32BE(index, 8);
  return nonce;
};

/**
 * Incoming pieces, joined only once a whole chunk is there: joining on every small piece would
 * copy each byte many times over.
 */
const pendingPieces = () => {
  let pieces: Buffer[] = [];
  let length = 0;
  return {
    get length() { return length; },
    add(piece: Buffer) {
      pieces.push(piece);
      length += piece.length;
    },
    take(): Buffer {
      const joined = Buffer.concat(pieces, length);
      pieces = [];
      length = 0;
      return joined;
    },
  };
};

export const encryptStream = (keyring: Keyring, chunkBytes = DEFAULT_CHUNK_BYTES): Transform => {
  const keyId = Buffer.from(keyring.activeKeyId);
  const key = keyring.key(keyring.activeKeyId);
  const size = Buffer.alloc(4);
  size.writeUInt32BE(chunkBytes);
  const prefix = randomBytes(8);
  const header = Buffer.concat([MAGIC, Buffer.from([keyId.length]), keyId, size, prefix]);
  const pending = pendingPieces();
  let index = 0;
  const seal = (plain: Buffer, last: boolean) => {
    const cipher = createCipheriv('aes-256-gcm', key, nonceOf(prefix, index));
    index += 1;
    cipher.setAAD(Buffer.concat([header, Buffer.from([last ? 1 : 0])]));
    return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  };
  let headerSent = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      if (!headerSent) { this.push(header); headerSent = true; }
      pending.add(chunk);
      // A full chunk is sealed only once more data follows: the last one is marked as last.
      if (pending.length > chunkBytes) {
        let plain = pending.take();
        while (plain.length > chunkBytes) {
          this.push(seal(plain.subarray(0, chunkBytes), false));
          plain = plain.subarray(chunkBytes);
        }
        pending.add(plain);
      }
      callback();
    },
    flush(callback: TransformCallback) {
      if (!headerSent) this.push(header);
      this.push(seal(pending.take(), true));
      callback();
    },
  });
};

/**
 * Decrypts and verifies; fails with an IntegrityError. Each chunk is verified before it is passed
 * on, but only a stream that ends without error is whole: consumers stage the output and keep it
 * only then.
 */
export const decryptStream = (keyring: Keyring): Transform => {
  const pending = pendingPieces();
  let header: Buffer | null = null;
  let key: Buffer | null = null;
  let prefix: Buffer | null = null;
  let recordBytes = 0;
  let index = 0;
  const open = (record: Buffer, last: boolean) => {
    if (record.length < TAG_BYTES) throw new IntegrityError('the object is truncated (a chunk is shorter than its tag)');
    const decipher = createDecipheriv('aes-256-gcm', key!, nonceOf(prefix!, index));
    index += 1;
    decipher.setAAD(Buffer.concat([header!, Buffer.from([last ? 1 : 0])]));
    decipher.setAuthTag(record.subarray(record.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(record.subarray(0, record.length - TAG_BYTES)), decipher.final()]);
    } catch (error) {
      throw new IntegrityError(`chunk ${index - 1} fails authentication: the object was altered, truncated or encrypted with another key`, error);
    }
  };
  /** Reads the header off the front of `buffer`; returns what follows it, or null while it is incomplete. */
  const consumeHeader = (buffer: Buffer): Buffer | null => {
    if (buffer.length < MAGIC.length + 1) return null;
    if (!buffer.subarray(0, MAGIC.length).equals(MAGIC)) throw new IntegrityError('not an encrypted object of this platform (bad magic)');
    const idLength = buffer[MAGIC.length]!;
    const headerBytes = MAGIC.length + 1 + idLength + 4 + 8;
    if (buffer.length < headerBytes) return null;
    const keyId = buffer.subarray(MAGIC.length + 1, MAGIC.length + 1 + idLength).toString();
    const chunkBytes = buffer.readUInt32BE(MAGIC.length + 1 + idLength);
    if (chunkBytes < 1 || chunkBytes > MAX_CHUNK_BYTES) throw new IntegrityError(`implausible chunk size ${chunkBytes}`);
    try {
      key = keyring.key(keyId);
    } catch (error) {
      throw new IntegrityError(`the object is encrypted with key ${keyId}, which is not configured`, error);
    }
    header = buffer.subarray(0, headerBytes);
    prefix = header.subarray(headerBytes - 8);
    recordBytes = chunkBytes + TAG_BYTES;
    return buffer.subarray(headerBytes);
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        pending.add(chunk);
        // A record is opened only once more data follows: the last one is opened as last.
        if (header && pending.length <= recordBytes) return callback();
        let buffer = pending.take();
        if (!header) {
          const rest = consumeHeader(buffer);
          if (!rest) {
            pending.add(buffer);
            return callback();
          }
          buffer = rest;
        }
        while (buffer.length > recordBytes) {
          this.push(open(buffer.subarray(0, recordBytes), false));
          buffer = buffer.subarray(recordBytes);
        }
        pending.add(buffer);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        const rest = header ? pending.take() : consumeHeader(pending.take());
        if (!rest) throw new IntegrityError('the object is truncated (incomplete header)');
        this.push(open(rest, true));
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
};
