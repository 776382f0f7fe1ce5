-- Masking and pseudonymisation (issue 16): columns a dataset's owner marks `masked` (shown as a
-- keyed hash) or `hidden` (left out) to readers below the dataset's sensitivity.
CREATE TABLE dataset_column_masks (
    dataset_id   BIGINT NOT NULL REFERENCES datasets(id),
    column_name  TEXT NOT NULL,
    mode         TEXT NOT NULL,
    updated_by   TEXT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (dataset_id, column_name)
);

-- The per-project key of the keyed hash (32 random bytes, hex). No route returns it.
CREATE TABLE project_mask_keys (
    project_id  BIGINT PRIMARY KEY REFERENCES projects(id),
    mask_key    TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
