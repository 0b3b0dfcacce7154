-- Sessions of signed-in browsers. Only a hash of the cookie value is stored, so a copy of the
-- database cannot be replayed as a cookie. The principal is a snapshot taken at sign-in.
CREATE TABLE sessions (
  id_hash     TEXT PRIMARY KEY,                    -- sha256 hex of the cookie value
  account     TEXT NOT NULL,
  is_admin    INTEGER NOT NULL DEFAULT 0,
  groups      TEXT NOT NULL DEFAULT '[]',          -- JSON list of unix group names
  csrf        TEXT NOT NULL,                       -- synchroniser token for state-changing requests
  method      TEXT NOT NULL,                       -- how the user signed in: password | negotiate | test
  created_at  INTEGER NOT NULL,
  seen_at     INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_account ON sessions(account);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- API tokens a user creates and revokes on /account; only a hash of the secret is stored.
CREATE TABLE api_tokens (
  id           INTEGER PRIMARY KEY,
  account      TEXT NOT NULL,
  label        TEXT NOT NULL,
  token_hash   TEXT NOT NULL UNIQUE,               -- sha256 hex of the secret
  prefix       TEXT NOT NULL,                      -- first characters, to recognise a token in the list
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at   INTEGER
);
CREATE INDEX api_tokens_account ON api_tokens(account, id);

-- Failed sign-ins, per account name ("user:NAME") and per client address ("addr:IP").
CREATE TABLE login_failures (
  key          TEXT PRIMARY KEY,
  failures     INTEGER NOT NULL,
  last_at      INTEGER NOT NULL,
  blocked_until INTEGER NOT NULL DEFAULT 0
);
