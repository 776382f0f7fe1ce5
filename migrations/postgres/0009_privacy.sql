-- Differential privacy (issue 16): budgets per dataset and the ledger of what was charged.
-- A budget's scope is `total` (everyone together), `each_user` (every principal on their own,
-- unless a `user` row names them) or `user` (one principal, in `principal`).
CREATE TABLE privacy_budgets (
    id          BIGSERIAL PRIMARY KEY,
    dataset_id  BIGINT NOT NULL REFERENCES datasets(id),
    scope       TEXT NOT NULL,
    principal   TEXT NOT NULL DEFAULT '',
    epsilon     DOUBLE PRECISION NOT NULL,
    delta       DOUBLE PRECISION NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (dataset_id, scope, principal)
);

-- Every release, charged before it was made: who, what, how much, by which mechanism.
CREATE TABLE privacy_charges (
    id                  BIGSERIAL PRIMARY KEY,
    dataset_id          BIGINT NOT NULL REFERENCES datasets(id),
    dataset_version_id  BIGINT NOT NULL REFERENCES dataset_versions(id),
    principal           TEXT NOT NULL,
    query               TEXT NOT NULL,
    mechanism           TEXT NOT NULL,
    epsilon             DOUBLE PRECISION NOT NULL,
    delta               DOUBLE PRECISION NOT NULL,
    request_id          TEXT,
    created_at          BIGINT NOT NULL
);
CREATE INDEX privacy_charges_by_principal ON privacy_charges (dataset_id, principal);

-- The permission rules of the privacy actions (dataset.query_dp, privacy.manage, privacy.read)
-- for databases whose default rules were written before these actions existed; a database not
-- seeded yet (revision 0) gets them with the rest of the defaults. The rows must equal
-- verity_policy::default_permissions() for these actions (a policy unit test checks).
INSERT INTO policy_rules (ptype, v0, v1, v2, created_by, created_at)
SELECT new_rules.column1, new_rules.column2, new_rules.column3, new_rules.column4, 'system', CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)
FROM (VALUES
    ('p', 'viewer', 'dataset.query_dp', ''),
    ('p', 'approver', 'dataset.query_dp', ''),
    ('p', 'auditor', 'dataset.query_dp', ''),
    ('p', 'contributor', 'dataset.query_dp', ''),
    ('p', 'maintainer', 'dataset.query_dp', ''),
    ('p', 'owner', 'dataset.query_dp', ''),
    ('p', 'owner', 'privacy.manage', ''),
    ('p', 'owner', 'privacy.read', ''),
    ('p', 'auditor', 'privacy.read', '')
) AS new_rules
WHERE EXISTS (SELECT 1 FROM policy_revision WHERE id = 1 AND revision <> 0)
ON CONFLICT (ptype, v0, v1, v2) DO NOTHING;

-- Every server process reloads its rules when the revision moves.
UPDATE policy_revision SET revision = revision + 1 WHERE id = 1 AND revision <> 0;
