-- Monitoring (issue 4): monitors, their durable job queue, check reports, alerts and webhooks
-- (SQLite dialect). Times are milliseconds since the Unix epoch; booleans are 0/1 integers;
-- JSON columns are TEXT.
-- Lineage gains the node kind `report` (a check report) with the relations checked
-- (dataset_version -> report it judged) and reference (dataset_version -> report compared with it).

-- A monitor judges the versions of one dataset, on each new version and/or on a schedule.
CREATE TABLE monitors (
    id                   INTEGER PRIMARY KEY,
    project_id           INTEGER NOT NULL REFERENCES projects(id),
    name                 TEXT    NOT NULL,
    dataset_id           INTEGER NOT NULL REFERENCES datasets(id),
    -- A version of any dataset of the same project; NULL when the checks need none.
    reference_version_id INTEGER REFERENCES dataset_versions(id),
    checks               TEXT    NOT NULL,
    on_new_version       INTEGER NOT NULL DEFAULT 0,
    interval_seconds     INTEGER,
    enabled              INTEGER NOT NULL DEFAULT 1,
    next_run_at          INTEGER,
    last_run_at          INTEGER,
    created_by           TEXT    NOT NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    UNIQUE (project_id, name)
);
-- The push trigger: the monitors of a dataset that run on each new version.
CREATE INDEX monitors_dataset ON monitors (dataset_id);
-- The scheduler: enabled monitors with an interval, by due time.
CREATE INDEX monitors_due ON monitors (next_run_at) WHERE enabled = 1 AND interval_seconds IS NOT NULL;

-- The job queue. A job is claimed with a lease; a job whose lease ran out is claimed again.
-- dataset_version_id NULL means the latest version of the monitor's dataset at run time.
-- report_id refers to check_reports (declared below; SQLite resolves it when rows change).
CREATE TABLE jobs (
    id                 INTEGER PRIMARY KEY,
    project_id         INTEGER NOT NULL REFERENCES projects(id),
    monitor_id         INTEGER NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
    dataset_version_id INTEGER REFERENCES dataset_versions(id),
    trigger            TEXT    NOT NULL,
    state              TEXT    NOT NULL,
    attempts           INTEGER NOT NULL DEFAULT 0,
    max_attempts       INTEGER NOT NULL DEFAULT 3,
    run_after          INTEGER NOT NULL,
    lease_owner        TEXT,
    lease_until        INTEGER,
    report_id          INTEGER REFERENCES check_reports(id) ON DELETE SET NULL,
    error              TEXT,
    created_by         TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    started_at         INTEGER,
    finished_at        INTEGER
);
-- Claims: queued jobs that are due, running jobs whose lease ran out.
CREATE INDEX jobs_queued ON jobs (run_after, id) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_until, id) WHERE state = 'running';
CREATE INDEX jobs_project ON jobs (project_id, id);
CREATE INDEX jobs_monitor ON jobs (monitor_id, id);

-- The outcome of one check (profile, quality, drift, fairness) of a dataset version.
CREATE TABLE check_reports (
    id                   INTEGER PRIMARY KEY,
    project_id           INTEGER NOT NULL REFERENCES projects(id),
    kind                 TEXT    NOT NULL,
    status               TEXT    NOT NULL,
    summary              TEXT    NOT NULL,
    config               TEXT    NOT NULL,
    result               TEXT    NOT NULL,
    dataset_version_id   INTEGER NOT NULL REFERENCES dataset_versions(id),
    reference_version_id INTEGER REFERENCES dataset_versions(id),
    monitor_id           INTEGER REFERENCES monitors(id) ON DELETE SET NULL,
    job_id               INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    trigger              TEXT    NOT NULL,
    created_by           TEXT    NOT NULL,
    created_at           INTEGER NOT NULL,
    duration_ms          INTEGER NOT NULL
);
CREATE INDEX check_reports_project ON check_reports (project_id, id);
CREATE INDEX check_reports_monitor ON check_reports (monitor_id, id);
CREATE INDEX check_reports_version ON check_reports (dataset_version_id);
CREATE INDEX check_reports_job ON check_reports (job_id);

-- An alert of a monitor: opened by a failing or warning report, updated by the next ones,
-- resolved by a passing report or by hand.
CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY,
    project_id      INTEGER NOT NULL REFERENCES projects(id),
    monitor_id      INTEGER NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
    first_report_id INTEGER NOT NULL REFERENCES check_reports(id),
    last_report_id  INTEGER NOT NULL REFERENCES check_reports(id),
    state           TEXT    NOT NULL,
    severity        TEXT    NOT NULL,
    summary         TEXT    NOT NULL,
    occurrences     INTEGER NOT NULL,
    opened_at       INTEGER NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at INTEGER,
    resolved_by     TEXT,
    resolved_at     INTEGER,
    updated_at      INTEGER NOT NULL
);
-- At most one unresolved alert per monitor.
CREATE UNIQUE INDEX alerts_unresolved ON alerts (monitor_id) WHERE state <> 'resolved';
CREATE INDEX alerts_project ON alerts (project_id, id);
CREATE INDEX alerts_first_report ON alerts (first_report_id);
CREATE INDEX alerts_last_report ON alerts (last_report_id);

-- Webhooks: the secret signs each delivery (it is needed in clear, and never returned by reads).
CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    url        TEXT    NOT NULL,
    secret     TEXT    NOT NULL,
    events     TEXT    NOT NULL,
    enabled    INTEGER NOT NULL DEFAULT 1,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX webhooks_project ON webhooks (project_id, id);

-- One event to deliver to one webhook, retried with a lease like jobs.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event           TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);

-- Every attempt of a delivery: when, the HTTP status or the error, how long it took.
CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    status      INTEGER,
    error       TEXT,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);
