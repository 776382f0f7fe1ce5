//! The default permission table: which role may do which action, under which condition.

use std::fmt::Write as _;

use super::{Action, Condition, Role};

/// One permission rule: members holding `role` may perform `action` when `condition` holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Permission {
    /// The role the rule grants to.
    pub role: Role,
    /// An action name ([`Action::as_str`]) or `*` for every action.
    pub action: String,
    /// The condition the request must meet.
    pub condition: Condition,
}

impl Permission {
    fn new(role: Role, action: Action, condition: Condition) -> Self {
        Permission {
            role,
            action: action.as_str().to_owned(),
            condition,
        }
    }
}

/// What a viewer (and an approver) may do.
const VIEW: &[(Action, Condition)] = &[
    (Action::ProjectRead, Condition::Always),
    (Action::DatasetRead, Condition::Always),
    (Action::DatasetReadData, Condition::Clearance),
    (Action::ExperimentRead, Condition::Always),
    (Action::RunRead, Condition::Always),
    (Action::ModelRead, Condition::Always),
    (Action::LineageRead, Condition::Always),
    (Action::ReportRead, Condition::Clearance),
    (Action::MonitorRead, Condition::Always),
    (Action::DatasetQueryDp, Condition::Always),
];

/// What a contributor may do on top of viewing.
const CONTRIBUTE: &[Action] = &[
    Action::DatasetCreate,
    Action::DatasetWrite,
    Action::ExperimentCreate,
    Action::RunCreate,
    Action::ModelCreate,
    Action::ModelVersionCreate,
    Action::CheckRun,
    Action::AlertUpdate,
];

/// Run changes a contributor may make to their own runs and a maintainer to any run.
const RUN_CHANGES: &[Action] = &[Action::RunWrite, Action::RunDelete];

/// What a maintainer may do on top of contributing (besides changing anyone's runs).
const MAINTAIN: &[Action] = &[
    Action::ExperimentUpdate,
    Action::ExperimentDelete,
    Action::ModelUpdate,
    Action::ModelVersionUpdate,
    Action::AliasWrite,
    Action::MonitorManage,
];

/// What an owner may do on top of maintaining.
const OWN: &[Action] = &[
    Action::ProjectUpdate,
    Action::DatasetUpdate,
    Action::MembersManage,
    Action::AuditRead,
    Action::WebhookManage,
    Action::PrivacyManage,
    Action::PrivacyRead,
    Action::GateManage,
];

/// The documented action × role table as rules. Admin holds `*` with the clearance condition:
/// everything, with raw data still limited by clearance.
pub fn default_permissions() -> Vec<Permission> {
    let mut out = Vec::new();
    let mut grant = |roles: &[Role], action: Action, condition: Condition| {
        for role in roles {
            out.push(Permission::new(*role, action, condition));
        }
    };
    let all_members = [
        Role::Viewer,
        Role::Approver,
        Role::Auditor,
        Role::Contributor,
        Role::Maintainer,
        Role::Owner,
    ];
    let contributors = [Role::Contributor, Role::Maintainer, Role::Owner];
    let maintainers = [Role::Maintainer, Role::Owner];
    for (action, condition) in VIEW {
        grant(&all_members, *action, *condition);
    }
    grant(&[Role::Auditor], Action::AuditRead, Condition::Always);
    grant(&[Role::Auditor], Action::PrivacyRead, Condition::Always);
    // Reviewing a promotion: approvers, and owners (never of their own versions: the API's
    // four-eyes rule).
    grant(
        &[Role::Approver, Role::Owner],
        Action::ModelVersionApprove,
        Condition::Always,
    );
    for action in CONTRIBUTE {
        grant(&contributors, *action, Condition::Always);
    }
    for action in RUN_CHANGES {
        grant(&[Role::Contributor], *action, Condition::Owner);
        grant(&maintainers, *action, Condition::Always);
    }
    for action in MAINTAIN {
        grant(&maintainers, *action, Condition::Always);
    }
    for action in OWN {
        grant(&[Role::Owner], *action, Condition::Always);
    }
    out.push(Permission {
        role: Role::Admin,
        action: "*".to_owned(),
        condition: Condition::Clearance,
    });
    out
}

/// The cell for one role and action: `yes`, `own`, `clearance` or `—`. Clearance only
/// matters for actions that [reveal data](Action::reveals_data) (every other check treats the
/// object as public), so a clearance rule shows as `yes` elsewhere.
fn cell(perms: &[Permission], role: Role, action: Action) -> &'static str {
    let conditions = perms
        .iter()
        .filter(|p| p.role == role && (p.action == "*" || p.action == action.as_str()))
        .map(|p| match p.condition {
            Condition::Clearance if !action.reveals_data() => Condition::Always,
            c => c,
        });
    // The least restrictive matching rule decides.
    let best = conditions.min_by_key(|c| match c {
        Condition::Always => 0,
        Condition::Clearance => 1,
        Condition::Owner => 2,
    });
    match best {
        Some(Condition::Always) => "yes",
        Some(Condition::Clearance) => "clearance",
        Some(Condition::Owner) => "own",
        None => "—",
    }
}

/// The default permission table as Markdown: one row per action, one column per role; cells
/// are `yes`, `own` (own objects only), `clearance` (within the subject's clearance) or `—`.
pub fn permission_table_markdown() -> String {
    let perms = default_permissions();
    let mut out = String::from("| action |");
    for role in Role::ALL {
        let _ = write!(out, " {role} |");
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(Role::ALL.len()));
    out.push('\n');
    for action in Action::ALL {
        let scope = if action.is_global() { " (global)" } else { "" };
        let _ = write!(out, "| `{action}`{scope} |");
        for role in Role::ALL {
            let _ = write!(out, " {} |", cell(&perms, role, *action));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(role: Role, action: Action) -> Option<Condition> {
        default_permissions()
            .into_iter()
            .find(|p| p.role == role && p.action == action.as_str())
            .map(|p| p.condition)
    }

    #[test]
    fn table_matches_the_documented_roles() {
        assert_eq!(
            has(Role::Viewer, Action::DatasetReadData),
            Some(Condition::Clearance)
        );
        assert_eq!(has(Role::Viewer, Action::AuditRead), None);
        assert_eq!(
            has(Role::Auditor, Action::AuditRead),
            Some(Condition::Always)
        );
        assert_eq!(has(Role::Approver, Action::RunCreate), None);
        assert_eq!(
            has(Role::Contributor, Action::RunWrite),
            Some(Condition::Owner)
        );
        assert_eq!(
            has(Role::Contributor, Action::RunDelete),
            Some(Condition::Owner)
        );
        assert_eq!(has(Role::Contributor, Action::AliasWrite), None);
        assert_eq!(
            has(Role::Maintainer, Action::RunWrite),
            Some(Condition::Always)
        );
        assert_eq!(
            has(Role::Maintainer, Action::AliasWrite),
            Some(Condition::Always)
        );
        assert_eq!(has(Role::Maintainer, Action::AuditRead), None);
        assert_eq!(
            has(Role::Owner, Action::MembersManage),
            Some(Condition::Always)
        );
        assert_eq!(has(Role::Owner, Action::AuditRead), Some(Condition::Always));
        assert_eq!(has(Role::Owner, Action::ProjectCreate), None);
        let admin: Vec<_> = default_permissions()
            .into_iter()
            .filter(|p| p.role == Role::Admin)
            .collect();
        assert_eq!(admin.len(), 1);
        assert_eq!(admin[0].action, "*");
        assert_eq!(admin[0].condition, Condition::Clearance);
    }

    #[test]
    fn no_duplicate_rules_and_no_global_actions_for_project_roles() {
        let perms = default_permissions();
        let unique: std::collections::HashSet<_> = perms.iter().collect();
        assert_eq!(unique.len(), perms.len());
        for p in perms.iter().filter(|p| p.role.is_project_role()) {
            let action: Action = p.action.parse().expect("known action");
            assert!(!action.is_global(), "{p:?}");
        }
    }

    /// Databases seeded before an action existed get its rules from a migration; its rows
    /// must be exactly the defaults for those actions, in both dialects.
    fn assert_migration_matches_the_defaults(actions: &[Action], migrations: [&str; 2]) {
        let mut expected: Vec<String> = default_permissions()
            .into_iter()
            .filter(|p| actions.iter().any(|a| a.as_str() == p.action))
            .map(|p| format!("('p', '{}', '{}', '{}')", p.role, p.action, p.condition))
            .collect();
        expected.sort();
        for sql in migrations {
            let mut rows: Vec<String> = sql
                .lines()
                .map(|l| l.trim().trim_end_matches(','))
                .filter(|l| l.starts_with("('p'"))
                .map(str::to_owned)
                .collect();
            rows.sort();
            assert_eq!(rows, expected);
        }
    }

    #[test]
    fn monitoring_rules_migration_matches_the_defaults() {
        assert_migration_matches_the_defaults(
            &[
                Action::ReportRead,
                Action::CheckRun,
                Action::MonitorRead,
                Action::MonitorManage,
                Action::AlertUpdate,
                Action::WebhookManage,
            ],
            [
                include_str!("../../../migrations/sqlite/0004_monitoring_rules.sql"),
                include_str!("../../../migrations/postgres/0004_monitoring_rules.sql"),
            ],
        );
    }

    #[test]
    fn privacy_rules_migration_matches_the_defaults() {
        assert_migration_matches_the_defaults(
            &[
                Action::DatasetQueryDp,
                Action::PrivacyManage,
                Action::PrivacyRead,
            ],
            [
                include_str!("../../../migrations/sqlite/0009_privacy.sql"),
                include_str!("../../../migrations/postgres/0009_privacy.sql"),
            ],
        );
    }

    #[test]
    fn promotion_rules_migration_matches_the_defaults() {
        assert_migration_matches_the_defaults(
            &[Action::ModelVersionApprove, Action::GateManage],
            [
                include_str!("../../../migrations/sqlite/0011_promotion.sql"),
                include_str!("../../../migrations/postgres/0011_promotion.sql"),
            ],
        );
    }

    #[test]
    fn markdown_table() {
        let md = permission_table_markdown();
        let lines: Vec<_> = md.lines().collect();
        assert_eq!(lines.len(), 2 + Action::ALL.len());
        assert_eq!(
            lines[0],
            "| action | admin | owner | maintainer | contributor | viewer | auditor | approver |"
        );
        assert!(md.contains("| `run.write` | yes | yes | yes | own | — | — | — |"));
        assert!(md.contains(
            "| `dataset.read_data` | clearance | clearance | clearance | clearance | clearance | clearance | clearance |"
        ));
        assert!(md.contains("| `project.create` (global) | yes | — | — | — | — | — | — |"));
    }
}
