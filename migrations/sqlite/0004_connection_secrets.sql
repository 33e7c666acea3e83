-- Connection secrets (access tokens, app secrets, webhook secrets) move out of the settings
-- JSON of stores and channels into their own rows, each value encrypted by the host
-- (XChaCha20-Poly1305, `v1:<base64 nonce + ciphertext>`, bound to its connection and name).
-- SQL cannot encrypt: the host moves the plaintext secrets of older rows here on first start.
-- Mirrors ../postgres/0004_connection_secrets.sql.

CREATE TABLE connection_secrets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- the connection: exactly one of the two, so a secret goes when its connection goes
    store_id INTEGER REFERENCES stores(id) ON DELETE CASCADE,
    channel_id INTEGER REFERENCES channels(id) ON DELETE CASCADE,
    -- the name the plugin asks for (`access-token`…)
    name TEXT NOT NULL,
    -- the value in use: as the operator gave it, or as the connector last rotated it
    value_encrypted TEXT NOT NULL,
    -- the value the operator last gave (configuration or API), so that re-applying an
    -- unchanged configuration keeps a rotated value; NULL when the connector made the secret
    given_encrypted TEXT,
    updated_at INTEGER NOT NULL,
    CHECK ((store_id IS NULL) <> (channel_id IS NULL)),
    UNIQUE (store_id, name),
    UNIQUE (channel_id, name)
);
