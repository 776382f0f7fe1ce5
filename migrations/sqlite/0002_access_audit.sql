-- Identity, access control and the hash-chained audit trail (SQLite dialect).

-- Datasets carry a sensitivity; reading their raw rows needs at least that clearance.
ALTER TABLE datasets ADD COLUMN sensitivity TEXT NOT NULL DEFAULT 'internal';

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    name                TEXT    NOT NULL UNIQUE,
    password_hash       TEXT    NOT NULL,
    clearance           TEXT    NOT NULL DEFAULT 'internal',
    disabled_at         INTEGER,
    password_changed_at INTEGER NOT NULL,
    created_by          TEXT    NOT NULL,
    created_at          INTEGER NOT NULL
);

-- API tokens: only the SHA-256 digest of the secret is stored.
CREATE TABLE api_tokens (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(id),
    name           TEXT    NOT NULL,
    display_prefix TEXT    NOT NULL,
    digest         TEXT    NOT NULL UNIQUE,
    project        TEXT,
    read_only      INTEGER NOT NULL DEFAULT 0,
    expires_at     INTEGER,
    revoked_at     INTEGER,
    -- The token that created this one (its expiry caps this one's; revoking it revokes this).
    parent_id      INTEGER REFERENCES api_tokens(id),
    created_by     TEXT    NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Dashboard sessions: the cookie's digest, server-side expiry, the CSRF token.
CREATE TABLE sessions (
    digest     TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- casbin rules: p = (role, action, condition), g = (user, role, domain).
CREATE TABLE policy_rules (
    id         INTEGER PRIMARY KEY,
    ptype      TEXT    NOT NULL,
    v0         TEXT    NOT NULL,
    v1         TEXT    NOT NULL,
    v2         TEXT    NOT NULL DEFAULT '',
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (ptype, v0, v1, v2)
);

-- Bumped by every rule change, so every server process reloads its enforcer.
CREATE TABLE policy_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
INSERT INTO policy_revision (id, revision) VALUES (1, 0);

-- The audit trail: each hash covers the previous hash and the canonical encoding of the event.
CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    resource    TEXT    NOT NULL,
    project     TEXT,
    outcome     TEXT    NOT NULL,
    request_id  TEXT,
    client_addr TEXT,
    details     TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL
);
CREATE INDEX audit_events_project ON audit_events (project, seq);
CREATE INDEX audit_events_actor ON audit_events (actor, seq);

-- The chain's head: appending locks it, and verification compares the last event with it.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
