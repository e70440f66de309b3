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

export const encryptStream = (keyring: Keyring, chunkBytes = DEFAULT_CHUNK_BYTES): Transform => {
  const keyId = Buffer.from(keyring.activeKeyId);
  const key = keyring.key(keyring.activeKeyId);
  const size = Buffer.alloc(4);
  size.writeUInt32BE(chunkBytes);
  const prefix = randomBytes(8);
  const header = Buffer.concat([MAGIC, Buffer.from([keyId.length]), keyId, size, prefix]);
  // Incoming pieces are collected and joined once per sealed chunk: joining on every small
  // piece would copy each byte many times over.
  let pieces: Buffer[] = [];
  let pendingBytes = 0;
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
      pieces.push(chunk);
      pendingBytes += chunk.length;
      // A full chunk is sealed only once more data follows: the last one is marked as last.
      if (pendingBytes > chunkBytes) {
        let pending = Buffer.concat(pieces, pendingBytes);
        while (pending.length > chunkBytes) {
          this.push(seal(pending.subarray(0, chunkBytes), false));
          pending = pending.subarray(chunkBytes);
        }
        pieces = [pending];
        pendingBytes = pending.length;
      }
      callback();
    },
    flush(callback: TransformCallback) {
      if (!headerSent) this.push(header);
      this.push(seal(Buffer.concat(pieces, pendingBytes), true));
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
  let buffer = Buffer.alloc(0);
  let pieces: Buffer[] = [];
  let piecesBytes = 0;
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
  const readHeader = () => {
    if (buffer.length < MAGIC.length + 1) return false;
    if (!buffer.subarray(0, MAGIC.length).equals(MAGIC)) throw new IntegrityError('not an encrypted object of this platform (bad magic)');
    const idLength = buffer[MAGIC.length]!;
    const headerBytes = MAGIC.length + 1 + idLength + 4 + 8;
    if (buffer.length < headerBytes) return false;
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
    buffer = buffer.subarray(headerBytes);
    return true;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        pieces.push(chunk);
        piecesBytes += chunk.length;
        // Joined only once a whole record (and more) is there, for the same reason as above.
        if (header && buffer.length + piecesBytes <= recordBytes) return callback();
        buffer = Buffer.concat([buffer, ...pieces]);
        pieces = [];
        piecesBytes = 0;
        if (!header && !readHeader()) return callback();
        while (buffer.length > recordBytes) {
          this.push(open(buffer.subarray(0, recordBytes), false));
          buffer = buffer.subarray(recordBytes);
        }
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        buffer = Buffer.concat([buffer, ...pieces]);
        if (!header && !readHeader()) throw new IntegrityError('the object is truncated (incomplete header)');
        this.push(open(buffer, true));
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
};
