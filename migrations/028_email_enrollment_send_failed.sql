-- An enrolment whose step could not be sent for good (the SMTP server refused the sender, or kept
-- refusing for the send's whole retry window) ends as stopped with reason 'send-failed', so its
-- row does not stay 'active' after its workflow failed.
ALTER TABLE email_enrollments DROP CONSTRAINT email_enrollments_stop_reason_valid;
ALTER TABLE email_enrollments ADD CONSTRAINT email_enrollments_stop_reason_valid
  CHECK (stop_reason IN ('replied', 'stage-reached', 'unsubscribed', 'bounced', 'sequence-inactive', 'sequence-deleted', 'send-failed'));
