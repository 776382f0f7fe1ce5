-- Verity registry core schema (SQLite dialect). Times are milliseconds since the Unix epoch (UTC).
-- Every row records who created it (created_by) and when (created_at).

CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    description TEXT    NOT NULL DEFAULT '',
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE datasets (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE dataset_versions (
    id              INTEGER PRIMARY KEY,
    dataset_id      INTEGER NOT NULL REFERENCES datasets(id),
    version         INTEGER NOT NULL,
    content_hash    TEXT    NOT NULL,
    byte_size       INTEGER NOT NULL,
    format          TEXT    NOT NULL,
    schema_json     TEXT    NOT NULL,
    row_count       INTEGER NOT NULL,
    source_uri      TEXT,
    derived_from_id INTEGER REFERENCES dataset_versions(id),
    description     TEXT    NOT NULL DEFAULT '',
    created_by      TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    UNIQUE (dataset_id, version)
);
CREATE INDEX dataset_versions_hash ON dataset_versions (content_hash);

CREATE TABLE experiments (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    deleted_at  INTEGER,
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    uuid          TEXT    NOT NULL UNIQUE,
    experiment_id INTEGER NOT NULL REFERENCES experiments(id),
    name          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    start_time    INTEGER NOT NULL,
    end_time      INTEGER,
    deleted_at    INTEGER,
    created_by    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX runs_experiment ON runs (experiment_id, start_time);

CREATE TABLE run_params (
    run_id     INTEGER NOT NULL REFERENCES runs(id),
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (run_id, key)
);

CREATE TABLE run_tags (
    run_id     INTEGER NOT NULL REFERENCES runs(id),
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (run_id, key)
);

-- One row per ingest call: who logged a group of metric points, and when.
CREATE TABLE metric_batches (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs(id),
    points     INTEGER NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- Append-only metric points. value is NULL exactly when the logged value was NaN;
-- +inf and -inf are stored as IEEE infinities.
CREATE TABLE metrics (
    id        INTEGER PRIMARY KEY,
    run_id    INTEGER NOT NULL,
    key       TEXT    NOT NULL,
    value     REAL,
    step      INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    batch_id  INTEGER NOT NULL
);
-- Covers history reads and downsampling: (step, timestamp) order with the value, no table lookups.
CREATE INDEX metrics_series ON metrics (run_id, key, step, timestamp, value);

-- The latest point of each (run, key): highest step, then timestamp, then insertion.
CREATE TABLE latest_metrics (
    run_id    INTEGER NOT NULL REFERENCES runs(id),
    key       TEXT    NOT NULL,
    value     REAL,
    step      INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX latest_metrics_key_value ON latest_metrics (key, value);

CREATE TABLE run_artifacts (
    run_id       INTEGER NOT NULL REFERENCES runs(id),
    path         TEXT    NOT NULL,
    content_hash TEXT    NOT NULL,
    byte_size    INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (run_id, path)
);

CREATE TABLE registered_models (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE model_versions (
    id            INTEGER PRIMARY KEY,
    model_id      INTEGER NOT NULL REFERENCES registered_models(id),
    version       INTEGER NOT NULL,
    source_run_id INTEGER REFERENCES runs(id),
    source_path   TEXT,
    description   TEXT    NOT NULL DEFAULT '',
    status        TEXT    NOT NULL,
    created_by    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (model_id, version)
);

CREATE TABLE model_version_files (
    model_version_id INTEGER NOT NULL REFERENCES model_versions(id),
    path             TEXT    NOT NULL,
    content_hash     TEXT    NOT NULL,
    byte_size        INTEGER NOT NULL,
    created_by       TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (model_version_id, path)
);

CREATE TABLE model_version_tags (
    model_version_id INTEGER NOT NULL REFERENCES model_versions(id),
    key              TEXT    NOT NULL,
    value            TEXT    NOT NULL,
    created_by       TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (model_version_id, key)
);

CREATE TABLE model_aliases (
    model_id         INTEGER NOT NULL REFERENCES registered_models(id),
    alias            TEXT    NOT NULL,
    model_version_id INTEGER NOT NULL REFERENCES model_versions(id),
    created_by       TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (model_id, alias)
);

-- Every move of an alias: set (old NULL), move, or delete (new NULL).
CREATE TABLE model_alias_history (
    id               INTEGER PRIMARY KEY,
    model_id         INTEGER NOT NULL REFERENCES registered_models(id),
    alias            TEXT    NOT NULL,
    old_version_id   INTEGER REFERENCES model_versions(id),
    new_version_id   INTEGER REFERENCES model_versions(id),
    created_by       TEXT    NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX model_alias_history_lookup ON model_alias_history (model_id, alias, created_at);

-- Lineage: a directed edge from an upstream entity to a downstream one.
-- Kinds: dataset_version, run, model_version. Relations: input (dataset_version -> run, with context),
-- output (run -> dataset_version), produced (run -> model_version), derived (dataset_version -> dataset_version).
CREATE TABLE lineage_edges (
    id         INTEGER PRIMARY KEY,
    src_kind   TEXT    NOT NULL,
    src_id     INTEGER NOT NULL,
    dst_kind   TEXT    NOT NULL,
    dst_id     INTEGER NOT NULL,
    relation   TEXT    NOT NULL,
    context    TEXT    NOT NULL DEFAULT '',
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (src_kind, src_id, dst_kind, dst_id, relation, context)
);
CREATE INDEX lineage_edges_dst ON lineage_edges (dst_kind, dst_id);
