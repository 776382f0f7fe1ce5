-- The permission rules of the monitoring actions (report.read, check.run, monitor.read,
-- monitor.manage, alert.update, webhook.manage) for databases whose default rules were
-- written before these actions existed. A database not seeded yet (revision 0) gets them
-- with the rest of the defaults when `verity serve` first starts. The rows must equal
-- verity_policy::default_permissions() for these actions (a policy unit test checks).
INSERT INTO policy_rules (ptype, v0, v1, v2, created_by, created_at)
SELECT new_rules.column1, new_rules.column2, new_rules.column3, new_rules.column4, 'system', CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)
FROM (VALUES
    ('p', 'viewer', 'report.read', 'clearance'),
    ('p', 'approver', 'report.read', 'clearance'),
    ('p', 'auditor', 'report.read', 'clearance'),
    ('p', 'contributor', 'report.read', 'clearance'),
    ('p', 'maintainer', 'report.read', 'clearance'),
    ('p', 'owner', 'report.read', 'clearance'),
    ('p', 'viewer', 'monitor.read', ''),
    ('p', 'approver', 'monitor.read', ''),
    ('p', 'auditor', 'monitor.read', ''),
    ('p', 'contributor', 'monitor.read', ''),
    ('p', 'maintainer', 'monitor.read', ''),
    ('p', 'owner', 'monitor.read', ''),
    ('p', 'contributor', 'check.run', ''),
    ('p', 'maintainer', 'check.run', ''),
    ('p', 'owner', 'check.run', ''),
    ('p', 'contributor', 'alert.update', ''),
    ('p', 'maintainer', 'alert.update', ''),
    ('p', 'owner', 'alert.update', ''),
    ('p', 'maintainer', 'monitor.manage', ''),
    ('p', 'owner', 'monitor.manage', ''),
    ('p', 'owner', 'webhook.manage', '')
) AS new_rules
WHERE EXISTS (SELECT 1 FROM policy_revision WHERE id = 1 AND revision <> 0)
ON CONFLICT (ptype, v0, v1, v2) DO NOTHING;

-- Every server process reloads its rules when the revision moves.
UPDATE policy_revision SET revision = revision + 1 WHERE id = 1 AND revision <> 0;
