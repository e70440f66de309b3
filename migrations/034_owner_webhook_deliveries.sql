-- Owner webhooks through the API (api/routes/owner-webhooks.ts):
-- 1. owner_webhook_deliveries, the delivery log: one row per attempt to POST an event to a webhook
--    (activities/owner-notification/delivery-log.ts), with the receiver's status code, the error,
--    and when Temporal retries it. A removed webhook takes its log with it.
-- 2. Secrets are sealed at rest: the API writes secret_sealed (AES-256-GCM with a keyring key,
--    core/owner-notification/webhook-secret.ts) and leaves secret NULL; rows written by SQL before
--    keep their plain secret until their next rotation. Exactly one of the two is set.
-- 3. The webhook secret leaves the data-change trail: the trigger of 007 copied whole rows, secret
--    included, into data_change_audit, which tenants can read. Rows written before are scrubbed.

CREATE TABLE owner_webhook_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  webhook_id uuid NOT NULL,
  -- The event's id, sent as `webhook-id`: the same on every attempt of one event.
  event_id uuid NOT NULL,
  event_type text NOT NULL CONSTRAINT owner_webhook_deliveries_event_type_format CHECK (event_type ~ '^[a-z][a-z0-9_.-]{0,99}$'),
  attempt integer NOT NULL CONSTRAINT owner_webhook_deliveries_attempt_positive CHECK (attempt >= 1),
  -- When the POST was sent.
  attempted_at timestamptz NOT NULL DEFAULT now(),
  -- NULL when no answer came (refused connection, timeout, a refused target).
  status_code integer CONSTRAINT owner_webhook_deliveries_status_code_valid CHECK (status_code BETWEEN 100 AND 599),
  latency_ms integer NOT NULL CONSTRAINT owner_webhook_deliveries_latency_valid CHECK (latency_ms >= 0),
  error text CONSTRAINT owner_webhook_deliveries_error_length CHECK (length(error) BETWEEN 1 AND 1000),
  outcome text NOT NULL CONSTRAINT owner_webhook_deliveries_outcome_valid CHECK (outcome IN ('delivered', 'retrying', 'failed')),
  next_retry_at timestamptz,
  CONSTRAINT owner_webhook_deliveries_retry_when_retrying CHECK ((outcome = 'retrying') = (next_retry_at IS NOT NULL)),
  CONSTRAINT owner_webhook_deliveries_error_unless_delivered CHECK ((outcome = 'delivered') = (error IS NULL)),
  CONSTRAINT owner_webhook_deliveries_webhook_fk FOREIGN KEY (tenant_id, webhook_id)
    REFERENCES owner_webhooks (tenant_id, id) ON DELETE CASCADE
);
-- GET /tenants/{tenantId}/owner-webhooks/{webhookId}/deliveries: newest first, a page at a time.
CREATE INDEX owner_webhook_deliveries_webhook_idx ON owner_webhook_deliveries (tenant_id, webhook_id, attempted_at DESC, id DESC);

ALTER TABLE owner_webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE owner_webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON owner_webhook_deliveries USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT ON owner_webhook_deliveries TO bi_app;
GRANT DELETE ON owner_webhook_deliveries TO bi_maintenance;

ALTER TABLE owner_webhooks
  ALTER COLUMN secret DROP NOT NULL,
  ADD COLUMN secret_key_id text CONSTRAINT owner_webhooks_secret_key_id_format CHECK (secret_key_id ~ '^[A-Za-z0-9._-]{1,64}$'),
  -- nonce | ciphertext | tag of the secret; its associated data names the tenant and the webhook.
  ADD COLUMN secret_sealed bytea CONSTRAINT owner_webhooks_secret_sealed_length CHECK (length(secret_sealed) BETWEEN 60 AND 400),
  ADD CONSTRAINT owner_webhooks_secret_sealed_with_key CHECK ((secret_key_id IS NULL) = (secret_sealed IS NULL)),
  ADD CONSTRAINT owner_webhooks_one_secret CHECK ((secret IS NULL) <> (secret_sealed IS NULL));

DROP TRIGGER owner_webhooks_audit ON owner_webhooks;
CREATE TRIGGER owner_webhooks_audit AFTER INSERT OR UPDATE OR DELETE ON owner_webhooks
  FOR EACH ROW EXECUTE FUNCTION record_data_change('secret', 'secret_key_id', 'secret_sealed');

-- As in 012: RLS is forced on the trail, so it is lifted for this one statement, in this transaction.
ALTER TABLE data_change_audit NO FORCE ROW LEVEL SECURITY;
UPDATE data_change_audit SET old_values = old_values - 'secret', new_values = new_values - 'secret'
 WHERE table_name = 'owner_webhooks' AND (old_values ? 'secret' OR new_values ? 'secret');
ALTER TABLE data_change_audit FORCE ROW LEVEL SECURITY;
