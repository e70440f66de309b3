// POSTs one signed webhook (owner events, integrity alerts): the Standard Webhooks signature of
// core/owner-notification/webhook-signature.ts, the event id as `webhook-id` (a receiver drops a
// redelivery by it). A failure throws so Temporal retries it with backoff, except answers that say
// retrying cannot help.
import { ApplicationFailure } from '@temporalio/common';
import { signWebhook } from '../../core/owner-notification/webhook-signature.ts';

// 408 and 429 ask to come back later; 409 and 425 may pass on a later try. Any other 4xx will not.
const RETRYABLE_CLIENT_ERRORS = new Set([408, 409, 425, 429]);

export type SignedWebhook = { url: URL; secret: string; eventId: string; body: string; timeoutMs: number };

/** Resolves with whatever status the receiver answered; throws only when no answer came (network, timeout). */
export const sendSignedWebhook = async (input: SignedWebhook): Promise<number> => {
  const response = await fetch(input.url, {
    method: 'POST',
    redirect: 'manual',
    signal: AbortSignal.timeout(input.timeoutMs),
    headers: { 'content-type': 'application/json', 'user-agent': 'BotInteligente-Webhooks/1', ...signWebhook(input.secret, input.eventId, input.body, new Date()) },
    body: input.body,
  });
  await response.body?.cancel();
  return response.status;
};

/** The failure a non-2xx answer is, retryable or not; null for a 2xx. */
export const webhookAnswerFailure = (url: URL, eventId: string, status: number): ApplicationFailure | null => {
  if (status >= 200 && status < 300) return null;
  const reason = `webhook ${url.origin}${url.pathname} answered ${status} to event ${eventId}`;
  if (status >= 400 && status < 500 && !RETRYABLE_CLIENT_ERRORS.has(status)) return ApplicationFailure.nonRetryable(reason, 'WebhookRefused');
  return ApplicationFailure.retryable(reason, 'WebhookUnavailable');
};

/** Resolves with the receiver's 2xx status. */
export const postSignedWebhook = async (input: SignedWebhook): Promise<number> => {
  const status = await sendSignedWebhook(input);
  const failure = webhookAnswerFailure(input.url, input.eventId, status);
  if (failure) throw failure;
  return status;
};
