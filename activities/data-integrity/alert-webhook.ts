// Sends each alerted finding (`integrity.critical_finding`) to the platform's alert webhook, signed
// like owner webhooks, with the finding id as `webhook-id`. An accepted delivery is recorded, so a
// retried activity never posts it again; a failed one throws and Temporal retries it with backoff.
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import type { Keyring } from '../../core/crypto/keyring.ts';
import { postSignedWebhook } from '../webhooks/post-signed-webhook.ts';
import { CRITICAL_FINDING_EVENT } from './alert-new-critical.ts';

export type AlertWebhookTarget = {
  readonly url: string;
  /** Read when first needed (it may come from the keyring); never logged. */
  readonly secret: () => string;
  readonly timeoutMs: number;
};

export type AlertDelivery = {
  readonly findingId: string;
  /** `delivered` now; `already-delivered` by an earlier attempt; no webhook configured; the finding is gone (its run deleted). */
  readonly outcome: 'delivered' | 'already-delivered' | 'no-webhook' | 'finding-gone';
  readonly status: number | null;
};

/** One POST's time: the platform's own receiver, not a tenant's; a slow one is retried. */
const ALERT_WEBHOOK_TIMEOUT_MS = 10_000;

/** The configured webhook, its secret from the config or, by key id, from the keyring (base64 text of the key). */
export const alertWebhookTarget = (
  config: { url: string; secret: string | null; secretKeyId: string | null } | null, keyring: () => Keyring,
): AlertWebhookTarget | null => config === null ? null : {
  url: config.url,
  secret: () => config.secret ?? keyring().key(config.secretKeyId!).toString('base64'),
  timeoutMs: ALERT_WEBHOOK_TIMEOUT_MS,
};

const alertRow = z.object({
  runId: z.uuid(), scope: z.string(), findingId: z.uuid(), check: z.string(), key: z.string(), affectedTenantId: z.uuid().nullable(),
  summary: z.string(), details: z.record(z.string(), z.unknown()), createdAt: z.string(),
});
const statusRow = z.object({ status: z.number() });

export const createIntegrityAlertWebhookActivities = (deps: { maintenancePool: DatabasePool; webhook: AlertWebhookTarget | null }) => ({
  async integrityDeliverAlert(input: { findingId: string }): Promise<AlertDelivery> {
    const { findingId } = input;
    if (deps.webhook === null) return { findingId, outcome: 'no-webhook', status: null };
    const pool = deps.maintenancePool;
    const earlier = await pool.maybeOneFirst(sql.type(statusRow)`SELECT status FROM integrity_alert_deliveries WHERE finding_id = ${findingId}`);
    if (earlier !== null) return { findingId, outcome: 'already-delivered', status: earlier };
    const alert = await pool.maybeOne(sql.type(alertRow)`
      SELECT f.run_id AS "runId", r.scope, f.id AS "findingId", f.check_name AS "check", f.finding_key AS "key",
             f.affected_tenant_id AS "affectedTenantId", f.summary, f.details,
             to_char(r.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "createdAt"
        FROM integrity_findings f JOIN integrity_runs r ON r.id = f.run_id WHERE f.id = ${findingId}`);
    if (alert === null) return { findingId, outcome: 'finding-gone', status: null };
    const { createdAt, ...data } = alert;
    const body = JSON.stringify({ id: findingId, type: CRITICAL_FINDING_EVENT, createdAt, data });
    const status = await postSignedWebhook({
      url: new URL(deps.webhook.url), secret: deps.webhook.secret(), eventId: findingId, body, timeoutMs: deps.webhook.timeoutMs,
    });
    await pool.query(sql.unsafe`INSERT INTO integrity_alert_deliveries (finding_id, status) VALUES (${findingId}, ${status}) ON CONFLICT (finding_id) DO NOTHING`);
    return { findingId, outcome: 'delivered', status };
  },
});

export type IntegrityAlertWebhookActivities = ReturnType<typeof createIntegrityAlertWebhookActivities>;
