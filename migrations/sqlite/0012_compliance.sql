-- Compliance reports and the documentation only a person can write (issue 17).

-- What people wrote about a model version or a dataset version for its reports (intended use,
-- ethical considerations, collection process, ...): one row per field.
CREATE TABLE documentation_fields (
    subject_kind  TEXT NOT NULL,
    subject_id    INTEGER NOT NULL,
    field         TEXT NOT NULL,
    value         TEXT NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (subject_kind, subject_id, field)
);

-- A generated report: immutable, its files stored by content hash.
CREATE TABLE compliance_reports (
    id                  INTEGER PRIMARY KEY,
    project_id          INTEGER NOT NULL REFERENCES projects(id),
    kind                TEXT NOT NULL,
    subject             TEXT NOT NULL,
    model_version_id    INTEGER REFERENCES model_versions(id),
    dataset_version_id  INTEGER REFERENCES dataset_versions(id),
    title               TEXT NOT NULL,
    quoted_datasets     TEXT NOT NULL,
    missing_fields      INTEGER NOT NULL,
    created_by          TEXT NOT NULL,
    created_at          INTEGER NOT NULL
);
CREATE INDEX compliance_reports_by_subject ON compliance_reports (project_id, subject, id);

-- A report's files: `json`, `html` and `pdf`.
CREATE TABLE compliance_report_files (
    report_id     INTEGER NOT NULL REFERENCES compliance_reports(id),
    format        TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    byte_size     INTEGER NOT NULL,
    PRIMARY KEY (report_id, format)
);
