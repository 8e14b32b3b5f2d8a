-- atende store, version 9: who may come in. People (app_user) with their sessions, API keys
-- for machines, and the audit trail of what they changed. lib/core/at_auth.h has the key
-- format, the scopes and the roles; lib/store/store_auth.c the SQL. Nothing is enforced by
-- these tables alone: the api reads them when it asks for credentials.

CREATE TABLE app_user (
  id            bigserial PRIMARY KEY,
  email         text NOT NULL UNIQUE CHECK (email = lower (email)),   -- stored lower-case
  name          text NOT NULL,
  role          text NOT NULL CHECK (role IN ('agent', 'lead', 'admin')),
  languages     text[] NOT NULL DEFAULT '{}',      -- tags a person answers in: pt-BR, en
  teams         text[] NOT NULL DEFAULT '{}',
  password_hash text NOT NULL,                     -- Argon2id, libsodium's crypto_pwhash_str
  disabled_at   timestamptz,
  failed_logins int NOT NULL DEFAULT 0,            -- since the last good password
  locked_until  timestamptz,                       -- every 10th failure locks for 15 minutes
  created_at    timestamptz NOT NULL DEFAULT now ()
);

-- The scopes a key may hold (at_auth.h); a new scope comes with a migration that widens this.
CREATE FUNCTION at_scopes_known (scopes text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT scopes <@ ARRAY['messages:write', 'orders:write', 'tickets:read', 'tickets:write',
                         'customers:read', 'customers:write', 'templates:write', 'kpis:read',
                         'dlq:admin', 'admin']::text[]
$$;

-- A key is atd_<id>_<secret>; only SHA-256 of the whole key is kept.
CREATE TABLE api_key (
  id             text PRIMARY KEY CHECK (id ~ '^[a-z2-7]{12}$'),
  name           text NOT NULL,
  scopes         text[] NOT NULL CHECK (cardinality (scopes) > 0 AND at_scopes_known (scopes)),
  secret_hash    bytea NOT NULL CHECK (length (secret_hash) = 32),
  expires_at     timestamptz,                      -- NULL: never
  revoked_at     timestamptz,
  last_used_at   timestamptz,                      -- written at most once a minute
  last_used_addr inet,
  created_at     timestamptz NOT NULL DEFAULT now (),
  created_by     text NOT NULL                     -- actor: cli, user:<id>, key:<id>
);

-- A session's id is SHA-256 of its random token (the cookie), so a read of this table gives
-- no one a session; the same for the CSRF token.
CREATE TABLE user_session (
  id              bytea PRIMARY KEY CHECK (length (id) = 32),
  user_id         bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  csrf_token_hash bytea NOT NULL CHECK (length (csrf_token_hash) = 32),
  created_at      timestamptz NOT NULL DEFAULT now (),
  expires_at      timestamptz NOT NULL,
  last_seen_at    timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX user_session_user ON user_session (user_id);        -- sign a person out everywhere
CREATE INDEX user_session_expires ON user_session (expires_at);  -- sweep the expired

-- Append-only: who (cli, user:<id>, key:<id>) did what to which thing, from where.
CREATE TABLE audit_log (
  id     bigserial PRIMARY KEY,
  at     timestamptz NOT NULL DEFAULT now (),
  actor  text NOT NULL CHECK (actor <> ''),
  action text NOT NULL CHECK (action <> ''),
  target text,
  detail jsonb NOT NULL DEFAULT '{}',
  addr   inet
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, at);
CREATE INDEX audit_log_target ON audit_log (target, at) WHERE target IS NOT NULL;
