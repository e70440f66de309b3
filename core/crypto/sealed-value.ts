// Small secrets kept in the database (a tenant's SMTP password): AES-256-GCM with a keyring key,
// the key id stored beside the sealed bytes so keys can rotate. The associated data binds the value
// to its owner (a tenant id), so a sealed value copied into another row does not open.
// Layout: nonce (12 bytes) | ciphertext | tag (16 bytes).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { IntegrityError } from './chunked-aead.ts';
import type { Keyring } from './keyring.ts';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export type SealedValue = { readonly keyId: string; readonly sealed: Buffer };

export const sealValue = (keyring: Keyring, plaintext: string, associatedData: string): SealedValue => {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyring.key(keyring.activeKeyId), nonce).setAAD(Buffer.from(associatedData));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { keyId: keyring.activeKeyId, sealed: Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]) };
};

export const openValue = (keyring: Keyring, value: SealedValue, associatedData: string): string => {
  const { sealed } = value;
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new IntegrityError('a sealed value is too short');
  const decipher = createDecipheriv('aes-256-gcm', keyring.key(value.keyId), sealed.subarray(0, NONCE_BYTES)).setAAD(Buffer.from(associatedData));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new IntegrityError('a sealed value does not open: wrong key, another owner\'s value, or altered', error);
  }
};
