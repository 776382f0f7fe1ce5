-- MLflow clients (issue 6): tags on experiments and registered models, as MLflow keeps them
-- (model versions and runs have had tags from the start). Tags are mutable metadata: setting a
-- key again overwrites it, and every change is audited.
CREATE TABLE experiment_tags (
    experiment_id INTEGER NOT NULL REFERENCES experiments(id),
    key           TEXT    NOT NULL,
    value         TEXT    NOT NULL,
    created_by    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (experiment_id, key)
);

CREATE TABLE registered_model_tags (
    model_id   INTEGER NOT NULL REFERENCES registered_models(id),
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (model_id, key)
);

-- MLflow's delete_logged_model marks a logged model deleted (its files stay: they are its run's
-- immutable artifacts, and versions registered from it keep theirs).
ALTER TABLE logged_models ADD COLUMN deleted_at INTEGER;
