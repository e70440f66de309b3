-- Rate-limit counters and lockouts of the API, shared by every API replica: with per-process
-- memory, two replicas doubled every limit, and a client locked out by one was served by the other.
-- Keys are client addresses and token ids under a scope (API_RATE_LIMIT_SCOPE), not tenant data,
-- so these tables carry no tenant_id and no row-level security. The application role reads and
-- writes these two tables and nothing else new; it creates nothing at run time.

CREATE TABLE api_rate_limit_hits (
  key text PRIMARY KEY CONSTRAINT api_rate_limit_hits_key_length CHECK (length(key) BETWEEN 1 AND 300),
  hits integer NOT NULL CONSTRAINT api_rate_limit_hits_not_negative CHECK (hits >= 0),
  -- End of the fixed window this count belongs to; the next hit after it starts a new window.
  reset_at timestamptz NOT NULL
);
-- Expired windows are swept by reset_at.
CREATE INDEX api_rate_limit_hits_reset_idx ON api_rate_limit_hits (reset_at);

CREATE TABLE api_lockouts (
  client text PRIMARY KEY CONSTRAINT api_lockouts_client_length CHECK (length(client) BETWEEN 1 AND 300),
  strikes integer NOT NULL CONSTRAINT api_lockouts_strikes_positive CHECK (strikes >= 1),
  locked_until timestamptz NOT NULL,
  last_offence timestamptz NOT NULL
);
-- Strikes forgotten after a day without offence are swept by last_offence.
CREATE INDEX api_lockouts_last_offence_idx ON api_lockouts (last_offence);

GRANT SELECT, INSERT, UPDATE, DELETE ON api_rate_limit_hits, api_lockouts TO bi_app;
