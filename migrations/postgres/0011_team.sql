-- A team: an owner invites an email address into the organization. The invitation link's
-- secret is kept only as its SHA-256; the link works once, before it expires, unless revoked.
-- Mirrors ../sqlite/0011_team.sql.

CREATE TABLE invitations (
    id BIGSERIAL PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    -- lower case, trimmed: the account the link creates (or joins) has this email
    email TEXT NOT NULL,
    -- `member` or `owner`
    role TEXT NOT NULL,
    invited_by BIGINT REFERENCES accounts(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);

CREATE INDEX invitations_by_org ON invitations (org_id);
