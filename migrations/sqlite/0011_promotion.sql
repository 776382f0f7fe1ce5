-- Promotion gates, four-eyes reviews and retirement (issue 17).

-- A gate guards an alias of one model (`model_id`) or of every model of the project (NULL):
-- the requirements (JSON, docs/models.md) a version must meet before the alias may point at it.
CREATE TABLE promotion_gates (
    id            INTEGER PRIMARY KEY,
    project_id    INTEGER NOT NULL REFERENCES projects(id),
    model_id      INTEGER REFERENCES registered_models(id),
    scope_key     INTEGER NOT NULL,
    alias         TEXT NOT NULL,
    requirements  TEXT NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (project_id, scope_key, alias)
);

-- A reviewer's decision on promoting a version to an alias: `approve` or `reject`, with a
-- comment; one per reviewer, version and alias.
CREATE TABLE model_version_reviews (
    id                INTEGER PRIMARY KEY,
    model_version_id  INTEGER NOT NULL REFERENCES model_versions(id),
    alias             TEXT NOT NULL,
    reviewer          TEXT NOT NULL,
    decision          TEXT NOT NULL,
    comment           TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    UNIQUE (model_version_id, alias, reviewer)
);

-- A retired version can take no alias.
CREATE TABLE model_version_retirements (
    model_version_id  INTEGER PRIMARY KEY REFERENCES model_versions(id),
    reason            TEXT NOT NULL,
    retired_by        TEXT NOT NULL,
    retired_at        INTEGER NOT NULL
);

-- The evidence an alias move relied on (the gate's verdict as JSON), when a gate guarded it.
ALTER TABLE model_alias_history ADD COLUMN evidence TEXT;

-- The permission rules of the promotion actions (model_version.approve, gate.manage)
-- for databases whose default rules were written before these actions existed; a database not
-- seeded yet (revision 0) gets them with the rest of the defaults. The rows must equal
-- verity_policy::default_permissions() for these actions (a policy unit test checks).
INSERT INTO policy_rules (ptype, v0, v1, v2, created_by, created_at)
SELECT new_rules.column1, new_rules.column2, new_rules.column3, new_rules.column4, 'system', CAST(strftime('%s', 'now') AS INTEGER) * 1000
FROM (VALUES
    ('p', 'approver', 'model_version.approve', ''),
    ('p', 'owner', 'model_version.approve', ''),
    ('p', 'owner', 'gate.manage', '')
) AS new_rules
WHERE EXISTS (SELECT 1 FROM policy_revision WHERE id = 1 AND revision <> 0)
ON CONFLICT (ptype, v0, v1, v2) DO NOTHING;

-- Every server process reloads its rules when the revision moves.
UPDATE policy_revision SET revision = revision + 1 WHERE id = 1 AND revision <> 0;
