// POSTs one signed webhook (owner events, integrity alerts): the Standard Webhooks signature of
// core/owner-notification/webhook-signature.ts, the event id as `webhook-id` (a receiver drops a
// redelivery by it). A failure throws so Temporal retries it with backoff, except answers that say
// retrying cannot help.
import { ApplicationFailure } from '@temporalio/common';
import { signWebhook } from '../../core/owner-notification/webhook-signature.ts';

// 408 and 429 ask to come back later; 409 and 425 may pass on a later try. Any other 4xx will not.
const RETRYABLE_CLIENT_ERRORS = new Set([408, 409, 425, 429]);

/** Resolves with the receiver's 2xx status. */
export const postSignedWebhook = async (input: { url: URL; secret: string; eventId: string; body: string; timeoutMs: number }): Promise<number> => {
  const { url, eventId, body } = input;
  const response = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    signal: AbortSignal.timeout(input.timeoutMs),
    headers: { 'content-type': 'application/json', 'user-agent': 'BotInteligente-Webhooks/1', ...signWebhook(input.secret, eventId, body, new Date()) },
    body,
  });
  await response.body?.cancel();
  if (response.ok) return response.status;
  const reason = `webhook ${url.origin}${url.pathname} answered ${response.status} to event ${eventId}`;
  if (response.status >= 400 && response.status < 500 && !RETRYABLE_CLIENT_ERRORS.has(response.status)) {
    throw ApplicationFailure.nonRetryable(reason, 'WebhookRefused');
  }
  throw ApplicationFailure.retryable(reason, 'WebhookUnavailable');
};
