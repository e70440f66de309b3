// Encryption keys with ids, so keys can rotate: new objects use the active key, and every key
// still listed decrypts what it once encrypted. Keys come from ENCRYPTION_KEYS and/or the file
// ENCRYPTION_KEYS_FILE, one `<id>:<base64 of 32 bytes>` per line or comma.
import { existsSync, readFileSync } from 'node:fs';
import { PlatformError } from '../errors.ts';

export class EncryptionKeyError extends PlatformError {
  constructor(message: string) {
    super('ENCRYPTION_KEY', message);
  }
}

export type Keyring = {
  readonly activeKeyId: string;
  key(id: string): Buffer;
};

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export const parseKeys = (text: string): Map<string, Buffer> => {
  const keys = new Map<string, Buffer>();
  for (const entry of text.split(/[\n,]/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'))) {
    const separator = entry.indexOf(':');
    const id = entry.slice(0, separator);
    const key = Buffer.from(entry.slice(separator + 1), 'base64');
    if (separator < 1 || !KEY_ID.test(id)) throw new EncryptionKeyError(`an encryption key entry has no valid id (expected <id>:<base64>)`);
    if (key.length !== 32) throw new EncryptionKeyError(`encryption key ${id} is ${key.length} bytes; AES-256 needs 32`);
    if (keys.has(id)) throw new EncryptionKeyError(`encryption key id ${id} is listed twice`);
    keys.set(id, key);
  }
  return keys;
};

export const loadKeyring = (source: { keys: string | null; keysFile: string; activeKeyId: string | null }): Keyring => {
  const keys = parseKeys([source.keys ?? '', existsSync(source.keysFile) ? readFileSync(source.keysFile, 'utf8') : ''].join('\n'));
  if (keys.size === 0) throw new EncryptionKeyError(`no encryption key: set ENCRYPTION_KEYS or write ${source.keysFile}`);
  const activeKeyId = source.activeKeyId ?? [...keys.keys()].at(-1)!;
  if (!keys.has(activeKeyId)) throw new EncryptionKeyError(`the active encryption key ${activeKeyId} is not among the configured keys`);
  return {
    activeKeyId,
    key(id) {
      const key = keys.get(id);
      if (!key) throw new EncryptionKeyError(`encryption key ${id} is not configured (was it rotated out?)`);
      return key;
    },
  };
};
