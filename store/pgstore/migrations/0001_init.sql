-- 0001: the tables of tapioca.dev/auth/store/pgstore.
--
-- Secrets never reach this schema: every hash column holds the SHA-256 of a
-- secret (32 bytes), never the secret. Scopes are space-separated scope
-- names (RFC 6749 §3.3), parsed back against the store's scope registry.
-- Optional times are NULL when unset.

CREATE TABLE tapioca_tokens (
    seq          bigint GENERATED ALWAYS AS IDENTITY,
    id           text        PRIMARY KEY,
    hash         bytea       NOT NULL UNIQUE CHECK (octet_length(hash) = 32),
    kind         smallint    NOT NULL,
    user_id      text        NOT NULL DEFAULT '',
    org_id       text        NOT NULL DEFAULT '',
    client_id    text        NOT NULL DEFAULT '',
    family_id    text        NOT NULL DEFAULT '',
    name         text        NOT NULL DEFAULT '',
    scopes       text        NOT NULL DEFAULT '',
    created_at   timestamptz,
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX tapioca_tokens_user_idx    ON tapioca_tokens (user_id, seq);
CREATE INDEX tapioca_tokens_family_idx  ON tapioca_tokens (family_id) WHERE family_id <> '';
CREATE INDEX tapioca_tokens_expires_idx ON tapioca_tokens (expires_at);

CREATE TABLE tapioca_codes (
    hash         bytea       PRIMARY KEY CHECK (octet_length(hash) = 32),
    client_id    text        NOT NULL DEFAULT '',
    user_id      text        NOT NULL DEFAULT '',
    org_id       text        NOT NULL DEFAULT '',
    redirect_uri text        NOT NULL DEFAULT '',
    scopes       text        NOT NULL DEFAULT '',
    challenge    text        NOT NULL DEFAULT '',
    family_id    text        NOT NULL DEFAULT '',
    created_at   timestamptz,
    expires_at   timestamptz,
    used_at      timestamptz, -- set by the one consumption that won
    revoked_at   timestamptz  -- set when the user was deprovisioned
);
CREATE INDEX tapioca_codes_user_idx    ON tapioca_codes (user_id);
CREATE INDEX tapioca_codes_expires_idx ON tapioca_codes (expires_at);

CREATE TABLE tapioca_families (
    id           text        PRIMARY KEY,
    client_id    text        NOT NULL DEFAULT '',
    user_id      text        NOT NULL DEFAULT '',
    org_id       text        NOT NULL DEFAULT '',
    scopes       text        NOT NULL DEFAULT '',
    current      bytea       NOT NULL CHECK (octet_length(current) = 32),
    rotations    integer     NOT NULL DEFAULT 0,
    created_at   timestamptz,
    expires_at   timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX tapioca_families_user_idx    ON tapioca_families (user_id);
CREATE INDEX tapioca_families_expires_idx ON tapioca_families (expires_at);

CREATE TABLE tapioca_clients (
    id            text    PRIMARY KEY,
    secret_hashes bytea[], -- SHA-256 of each live secret; NULL for public clients
    public        boolean NOT NULL DEFAULT false,
    redirect_uris text[],
    grant_types   text[],
    scopes        text    NOT NULL DEFAULT '',
    org_id        text    NOT NULL DEFAULT '',
    name          text    NOT NULL DEFAULT ''
);

CREATE TABLE tapioca_users (
    id          text    PRIMARY KEY,
    org_id      text    NOT NULL DEFAULT '',
    active      boolean NOT NULL DEFAULT false,
    permissions text    NOT NULL DEFAULT ''
);
