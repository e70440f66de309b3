// What follows a committed unsubscribe, beyond the suppression row itself. The row already stops
// every later send (the send activity answers `suppressed`); this hook is where the address's
// running sequence enrolments are cancelled, once the enrolments exist (wired at the merge with the
// email-sequence workflow). It runs after every accepted one-click POST, repeats included, so a
// failed run is repeated by the mail client's retry; its failure does not undo the unsubscribe.
import type { ApiDeps } from './deps.ts';

export type OnAddressUnsubscribed = (tenantId: string, address: string) => Promise<void>;

export const createOnAddressUnsubscribed = (deps: Pick<ApiDeps, 'logger'>): OnAddressUnsubscribed => async (tenantId) => {
  deps.logger.info({ tenantId }, 'address unsubscribed: its later sends are suppressed');
};
