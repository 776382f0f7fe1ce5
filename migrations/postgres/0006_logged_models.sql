-- MLflow clients (issue 6). Logged models: a model logged from a run, before (and whether or not) it is
-- registered. Its files are the source run's artifacts under models/<model_id>/, so a
-- registered model version made from it is a version from that run artifact directory.
CREATE TABLE logged_models (
    id            BIGSERIAL PRIMARY KEY,
    model_id      TEXT    NOT NULL UNIQUE,
    project_id    BIGINT NOT NULL REFERENCES projects(id),
    experiment_id BIGINT NOT NULL REFERENCES experiments(id),
    name          TEXT    NOT NULL,
    source_run_id BIGINT NOT NULL REFERENCES runs(id),
    model_type    TEXT    NOT NULL,
    -- PENDING, READY or FAILED.
    status        TEXT    NOT NULL,
    -- JSON lists of {key, value}.
    params        TEXT    NOT NULL,
    tags          TEXT    NOT NULL,
    created_by    TEXT    NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX logged_models_experiment ON logged_models (experiment_id, id);

-- Datasets an MLflow client named as a run's inputs (mlflow.log_input): MLflow sends their
-- description (name, digest, source, schema, profile), not their bytes, so they are recorded as
-- given; Verity dataset versions are linked with /api/v1/runs/{run}/inputs.
CREATE TABLE mlflow_dataset_inputs (
    id          BIGSERIAL PRIMARY KEY,
    run_id      BIGINT NOT NULL REFERENCES runs(id),
    name        TEXT    NOT NULL,
    digest      TEXT    NOT NULL,
    source_type TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    schema      TEXT    NOT NULL,
    profile     TEXT    NOT NULL,
    -- JSON list of {key, value} (mlflow.data.context...).
    tags        TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (run_id, name, digest)
);
