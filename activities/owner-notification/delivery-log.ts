// The delivery log (owner_webhook_deliveries): one row per attempt, so a tenant admin sees what its
// receiver answered and when Temporal tries again (GET …/owner-webhooks/{webhookId}/deliveries).
import { sql } from 'slonik';
import type { TenantTransaction } from '../../core/db/with-tenant.ts';
import type { OwnerWebhookAttempt } from '../../core/temporal/owner-notification.ts';

export type LoggedAttempt = {
  readonly tenantId: string;
  readonly webhookId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly attempt: number;
  readonly result: OwnerWebhookAttempt;
  /** When the POST was sent. */
  readonly attemptedAt: Date;
  /** When Temporal retries a failed attempt; null when it was delivered or given up. */
  readonly nextRetryAt: Date | null;
};

const ERROR_MAX = 1000;

export const recordDeliveryAttempt = (tx: TenantTransaction, entry: LoggedAttempt) => {
  const { result } = entry;
  const outcome = result.delivered ? 'delivered' : entry.nextRetryAt ? 'retrying' : 'failed';
  // A webhook removed meanwhile takes its log with it: nothing is recorded for it.
  return tx.query(sql.unsafe`
    INSERT INTO owner_webhook_deliveries (tenant_id, webhook_id, event_id, event_type, attempt, attempted_at, status_code, latency_ms, error, outcome, next_retry_at)
    SELECT w.tenant_id, w.id, ${entry.eventId}::uuid, ${entry.eventType}, ${entry.attempt}::int, ${entry.attemptedAt.toISOString()}::timestamptz, ${result.statusCode}::int, ${result.latencyMs}::int,
           ${result.delivered ? null : (result.error ?? 'failed').slice(0, ERROR_MAX)}::text, ${outcome},
           ${outcome === 'retrying' ? entry.nextRetryAt!.toISOString() : null}::timestamptz
      FROM owner_webhooks w WHERE w.tenant_id = ${entry.tenantId} AND w.id = ${entry.webhookId}`);
};
