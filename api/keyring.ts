// The platform keyring as the API uses it: loaded on first use (seals tenants' SMTP passwords, checks
// unsubscribe links), so an API without encryption keys still serves every other route.
import type { Config } from '../core/config.ts';
import { loadKeyring, type Keyring } from '../core/crypto/keyring.ts';

export const lazyKeyring = (config: Config): (() => Keyring) => {
  let keyring: Keyring | undefined;
  return () => (keyring ??= loadKeyring(config.encryption));
};
