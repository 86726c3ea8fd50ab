-- 0004_api_keys.sql - scoped API keys, stored only as SHA-256 hashes (created with `lineaged keys create`).
--
-- A key is 256 random bits, so a fast hash is enough: nobody can guess a preimage, and the server
-- compares hashes of what a client sends. The key itself is printed once at creation and kept nowhere.
-- Revoking sets revoked_at; the row stays, so the server keeps requiring keys (auth never switches
-- itself off because the last key was revoked) and `keys list` shows who had access.
-- Scopes are ordered: read < write (ingest, and read) < admin (edits, deletes, everything).
CREATE TABLE api_keys (
    id bigserial PRIMARY KEY,
    name text NOT NULL CHECK (name <> '' AND length(name) <= 200),
    scope text NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    key_hash bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- At most one active key per name, so `keys revoke --name` means one key.
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;
