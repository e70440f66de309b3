// One attempt to POST an event to an owner webhook, measured: the receiver's status code and the
// time it took, or why no answer came. Never throws: the caller decides whether a failure is
// retried (a delivery) or only reported (a test delivery).
import { performance } from 'node:perf_hooks';
import { ApplicationFailure } from '@temporalio/common';
import { assertPublicTarget, WebhookTargetError } from '../../core/owner-notification/webhook-target.ts';
import type { OwnerWebhookAttempt } from '../../core/temporal/owner-notification.ts';
import { sendSignedWebhook, webhookAnswerFailure, type SignedWebhook } from '../webhooks/post-signed-webhook.ts';

export type AttemptOutcome = OwnerWebhookAttempt & { readonly attemptedAt: Date; readonly failure: ApplicationFailure | null };

// fetch reports a refused connection or a DNS failure as "fetch failed" with the reason as its cause.
const causeOf = (error: unknown): string => {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${message}${cause}`;
};

export const attemptDelivery = async (input: SignedWebhook & { allowPrivateNetworks: boolean }): Promise<AttemptOutcome> => {
  const { url, eventId } = input;
  const attemptedAt = new Date();
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    if (!input.allowPrivateNetworks) await assertPublicTarget(url);
    const statusCode = await sendSignedWebhook(input);
    const failure = webhookAnswerFailure(url, eventId, statusCode);
    return { delivered: failure === null, statusCode, latencyMs: elapsed(), error: failure?.message ?? null, attemptedAt, failure };
  } catch (error) {
    const failure = error instanceof WebhookTargetError
      ? ApplicationFailure.nonRetryable(error.message, 'WebhookTargetRefused')
      : ApplicationFailure.retryable(`webhook ${url.origin}${url.pathname} did not answer event ${eventId}: ${causeOf(error)}`, 'WebhookUnavailable');
    return { delivered: false, statusCode: null, latencyMs: elapsed(), error: failure.message, attemptedAt, failure };
  }
};
