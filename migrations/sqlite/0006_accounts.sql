-- Accounts and what proves who calls the API: people log in with an email and a password
-- (Argon2id, PHC string) and get a session (a cookie); programs use API tokens, each scoped to
-- one organization. Session, token and setup-link secrets are random 256-bit values kept here
-- only as their SHA-256, so a copy of the database logs nobody in.
-- Mirrors ../postgres/0006_accounts.sql.

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- lower case, trimmed
    email TEXT NOT NULL UNIQUE,
    -- Argon2id PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash)
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Which organizations an account may act for.
CREATE TABLE memberships (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    -- `owner` (the first account, the CLI) or `member`
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, org_id)
);

-- A logged-in browser: the cookie holds the token, this row its hash.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    -- the organization the session acts for (one of the account's memberships; switchable)
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    -- sent with unsafe requests (header X-CSRF-Token or form field csrf_token); not a
    -- credential on its own, so kept as is for the pages to render
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);

-- A program's credential for one organization, shown once at creation.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);

-- One-time links that create the first account of an organization (`serve` prints one when
-- no account exists); used once, or expired.
CREATE TABLE setup_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);

CREATE INDEX memberships_by_org ON memberships (org_id);
CREATE INDEX sessions_by_account ON sessions (account_id);
CREATE INDEX api_tokens_by_account ON api_tokens (account_id);
