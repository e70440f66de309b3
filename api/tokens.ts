// API tokens: 32 random bytes shown once, stored only as their SHA-256.
import { createHash, randomBytes } from 'node:crypto';

const TOKEN_PREFIX = 'bi_';
export const TOKEN_FORMAT = /^bi_[A-Za-z0-9_-]{43}$/;

export const generateToken = (): string => `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
export const hashToken = (token: string): Buffer => createHash('sha256').update(token).digest();
