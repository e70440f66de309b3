-- Email sequences, the sending side (activities/email-sequences/send-step.ts):
-- 1. email_deliveries, the sent-log: one row per (enrolment, step) that the SMTP server accepted,
--    so a retried send activity does not send that step again. The Message-ID is derived from the
--    enrolment and the step, so it is the same on every attempt.
-- 2. email_suppressions: addresses a tenant must not mail again (a permanent SMTP refusal, later
--    an unsubscribe). Addresses are kept lower-case, so one address is one row.
-- The enrolments table comes with the sequence workflow; enrollment_id has no foreign key until then.

CREATE TABLE email_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  enrollment_id uuid NOT NULL,
  step integer NOT NULL CONSTRAINT email_deliveries_step_valid CHECK (step BETWEEN 0 AND 999),
  message_id text NOT NULL CONSTRAINT email_deliveries_message_id_length CHECK (length(message_id) BETWEEN 3 AND 300),
  recipient text NOT NULL CONSTRAINT email_deliveries_recipient_length CHECK (length(recipient) BETWEEN 3 AND 320),
  -- The SMTP server's reply to the message (e.g. "250 2.0.0 Ok: queued as ..."): proof of acceptance.
  smtp_response text NOT NULL CONSTRAINT email_deliveries_smtp_response_length CHECK (length(smtp_response) BETWEEN 1 AND 1000),
  sent_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT email_deliveries_step_once UNIQUE (tenant_id, enrollment_id, step)
);
-- Delivery history of one address, newest first.
CREATE INDEX email_deliveries_recipient_idx ON email_deliveries (tenant_id, recipient, sent_at DESC);

CREATE TABLE email_suppressions (
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  address text NOT NULL CONSTRAINT email_suppressions_address_lower CHECK (address = lower(address) AND length(address) BETWEEN 3 AND 320),
  reason text NOT NULL CONSTRAINT email_suppressions_reason_valid CHECK (reason IN ('bounced', 'unsubscribed')),
  -- What caused it, e.g. the SMTP server's permanent refusal.
  detail text NOT NULL CONSTRAINT email_suppressions_detail_length CHECK (length(detail) BETWEEN 1 AND 1000),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, address)
);

ALTER TABLE email_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON email_deliveries USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
ALTER TABLE email_suppressions ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_suppressions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON email_suppressions USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON email_deliveries, email_suppressions TO bi_app;
-- Retention and erasure delete by policy.
GRANT DELETE ON email_deliveries, email_suppressions TO bi_maintenance;
