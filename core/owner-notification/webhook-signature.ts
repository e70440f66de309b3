// Owner webhook signatures, after the Standard Webhooks scheme: HMAC-SHA256 over
// "<id>.<timestamp>.<body>" with the webhook's secret, sent as `webhook-signature: v1,<base64>`.
// The id lets a receiver drop a redelivery; the timestamp lets it refuse a replayed request.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignedHeaders = {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
};

const digest = (secret: string, id: string, timestamp: string, body: string): Buffer =>
  createHmac('sha256', secret).update(`${id}.${timestamp}.${body}`).digest();

export const signWebhook = (secret: string, id: string, body: string, now: Date): SignedHeaders => {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${digest(secret, id, timestamp, body).toString('base64')}` };
};

/** What a receiver runs: the signature matches and the timestamp is within the tolerance. */
export const verifyWebhook = (
  secret: string, headers: Partial<Record<keyof SignedHeaders, string>>, body: string, now: Date, toleranceSeconds = 300,
): boolean => {
  const { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature } = headers;
  if (!id || !timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = digest(secret, id, timestamp, body);
  return signature.split(' ').some((candidate) => {
    const [version, value] = candidate.split(',', 2);
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
};
