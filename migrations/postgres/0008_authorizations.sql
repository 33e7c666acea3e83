-- Connections being made through a platform's own authorization (TikTok Shop's
-- authorization code, Shopify's app install): one row per browser sent to the platform,
-- found again by the `state` the platform hands back. Single use, short-lived; the callback
-- creates the connection only when the state matches, is unused, unexpired and the caller's
-- organization's. Mirrors ../sqlite/0008_authorizations.sql.

CREATE TABLE pending_authorizations (
    id BIGSERIAL PRIMARY KEY,
    -- SHA-256 (hex) of the random state: the database never holds the value itself
    state_hash TEXT NOT NULL UNIQUE,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    -- who started it
    account_id BIGINT REFERENCES accounts(id) ON DELETE CASCADE,
    plugin_id TEXT NOT NULL,
    -- 'store' or 'channel'
    role TEXT NOT NULL,
    -- the connection's name (a channel of that name is reconnected, not added twice)
    name TEXT NOT NULL,
    -- the merchant's extra settings given at the start (JSON object of strings)
    settings TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- set once, when the callback takes it
    used_at BIGINT
);

CREATE INDEX pending_authorizations_by_expiry ON pending_authorizations (expires_at);
