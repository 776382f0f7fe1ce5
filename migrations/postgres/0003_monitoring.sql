-- Monitoring (issue 4): monitors, their durable job queue, check reports, alerts and webhooks
-- (PostgreSQL dialect). Times are milliseconds since the Unix epoch; booleans are 0/1 integers;
-- JSON columns are TEXT.
-- Lineage gains the node kind `report` (a check report) with the relations checked
-- (dataset_version -> report it judged) and reference (dataset_version -> report compared with it).

-- A monitor judges the versions of one dataset, on each new version and/or on a schedule.
CREATE TABLE monitors (
    id                   BIGSERIAL PRIMARY KEY,
    project_id           BIGINT NOT NULL REFERENCES projects(id),
    name                 TEXT    NOT NULL,
    dataset_id           BIGINT NOT NULL REFERENCES datasets(id),
    -- A version of any dataset of the same project; NULL when the checks need none.
    reference_version_id BIGINT REFERENCES dataset_versions(id),
    checks               TEXT    NOT NULL,
    on_new_version       BIGINT NOT NULL DEFAULT 0,
    interval_seconds     BIGINT,
    enabled              BIGINT NOT NULL DEFAULT 1,
    next_run_at          BIGINT,
    last_run_at          BIGINT,
    created_by           TEXT    NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    UNIQUE (project_id, name)
);
-- The push trigger: the monitors of a dataset that run on each new version.
CREATE INDEX monitors_dataset ON monitors (dataset_id);
-- The scheduler: enabled monitors with an interval, by due time.
CREATE INDEX monitors_due ON monitors (next_run_at) WHERE enabled = 1 AND interval_seconds IS NOT NULL;

-- The job queue. A job is claimed with a lease; a job whose lease ran out is claimed again.
-- dataset_version_id NULL means the latest version of the monitor's dataset at run time.
-- report_id refers to check_reports (the constraint is added once that table exists).
CREATE TABLE jobs (
    id                 BIGSERIAL PRIMARY KEY,
    project_id         BIGINT NOT NULL REFERENCES projects(id),
    monitor_id         BIGINT NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
    dataset_version_id BIGINT REFERENCES dataset_versions(id),
    trigger            TEXT    NOT NULL,
    state              TEXT    NOT NULL,
    attempts           BIGINT NOT NULL DEFAULT 0,
    max_attempts       BIGINT NOT NULL DEFAULT 3,
    run_after          BIGINT NOT NULL,
    lease_owner        TEXT,
    lease_until        BIGINT,
    report_id          BIGINT,
    error              TEXT,
    created_by         TEXT    NOT NULL,
    created_at         BIGINT NOT NULL,
    started_at         BIGINT,
    finished_at        BIGINT
);
-- Claims: queued jobs that are due, running jobs whose lease ran out.
CREATE INDEX jobs_queued ON jobs (run_after, id) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_until, id) WHERE state = 'running';
CREATE INDEX jobs_project ON jobs (project_id, id);
CREATE INDEX jobs_monitor ON jobs (monitor_id, id);

-- The outcome of one check (profile, quality, drift, fairness) of a dataset version.
CREATE TABLE check_reports (
    id                   BIGSERIAL PRIMARY KEY,
    project_id           BIGINT NOT NULL REFERENCES projects(id),
    kind                 TEXT    NOT NULL,
    status               TEXT    NOT NULL,
    summary              TEXT    NOT NULL,
    config               TEXT    NOT NULL,
    result               TEXT    NOT NULL,
    dataset_version_id   BIGINT NOT NULL REFERENCES dataset_versions(id),
    reference_version_id BIGINT REFERENCES dataset_versions(id),
    monitor_id           BIGINT REFERENCES monitors(id) ON DELETE SET NULL,
    job_id               BIGINT REFERENCES jobs(id) ON DELETE SET NULL,
    trigger              TEXT    NOT NULL,
    created_by           TEXT    NOT NULL,
    created_at           BIGINT NOT NULL,
    duration_ms          BIGINT NOT NULL
);
CREATE INDEX check_reports_project ON check_reports (project_id, id);
CREATE INDEX check_reports_monitor ON check_reports (monitor_id, id);
CREATE INDEX check_reports_version ON check_reports (dataset_version_id);
CREATE INDEX check_reports_job ON check_reports (job_id);
ALTER TABLE jobs ADD CONSTRAINT jobs_report_id_fkey
    FOREIGN KEY (report_id) REFERENCES check_reports(id) ON DELETE SET NULL;

-- An alert of a monitor: opened by a failing or warning report, updated by the next ones,
-- resolved by a passing report or by hand.
CREATE TABLE alerts (
    id              BIGSERIAL PRIMARY KEY,
    project_id      BIGINT NOT NULL REFERENCES projects(id),
    monitor_id      BIGINT NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
    first_report_id BIGINT NOT NULL REFERENCES check_reports(id),
    last_report_id  BIGINT NOT NULL REFERENCES check_reports(id),
    state           TEXT    NOT NULL,
    severity        TEXT    NOT NULL,
    summary         TEXT    NOT NULL,
    occurrences     BIGINT NOT NULL,
    opened_at       BIGINT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at BIGINT,
    resolved_by     TEXT,
    resolved_at     BIGINT,
    updated_at      BIGINT NOT NULL
);
-- At most one unresolved alert per monitor.
CREATE UNIQUE INDEX alerts_unresolved ON alerts (monitor_id) WHERE state <> 'resolved';
CREATE INDEX alerts_project ON alerts (project_id, id);
CREATE INDEX alerts_first_report ON alerts (first_report_id);
CREATE INDEX alerts_last_report ON alerts (last_report_id);

-- Webhooks: the secret signs each delivery (it is needed in clear, and never returned by reads).
CREATE TABLE webhooks (
    id         BIGSERIAL PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    url        TEXT    NOT NULL,
    secret     TEXT    NOT NULL,
    events     TEXT    NOT NULL,
    enabled    BIGINT NOT NULL DEFAULT 1,
    created_by TEXT    NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhooks_project ON webhooks (project_id, id);

-- One event to deliver to one webhook, retried with a lease like jobs.
CREATE TABLE webhook_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    webhook_id      BIGINT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event           TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_status     BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);

-- Every attempt of a delivery: when, the HTTP status or the error, how long it took.
CREATE TABLE webhook_attempts (
    id          BIGSERIAL PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt     BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    status      BIGINT,
    error       TEXT,
    duration_ms BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);
