//! The domain actions a request can ask to perform.

use std::fmt;
use std::str::FromStr;

use super::named_enum;
use crate::error::Error;

/// A domain action, named `resource.verb`. Project actions are checked in the project's domain;
/// [global](Action::is_global) ones in the global domain `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Create a project (global).
    ProjectCreate,
    /// Read a project's settings.
    ProjectRead,
    /// Change a project's settings.
    ProjectUpdate,
    /// Grant and revoke roles in a project.
    MembersManage,
    /// Read dataset metadata, versions and schemas.
    DatasetRead,
    /// Register a dataset.
    DatasetCreate,
    /// Add a dataset version.
    DatasetWrite,
    /// Read a dataset's raw rows or bytes (requires clearance for its sensitivity).
    DatasetReadData,
    /// Ask differentially private questions of a dataset, charged to its privacy budget
    /// (no clearance needed: only noisy aggregates are released).
    DatasetQueryDp,
    /// Set a dataset's privacy budgets.
    PrivacyManage,
    /// Read a dataset's privacy budgets and ledger.
    PrivacyRead,
    /// Change a dataset's description or sensitivity.
    DatasetUpdate,
    /// Read experiments.
    ExperimentRead,
    /// Create an experiment.
    ExperimentCreate,
    /// Rename or change an experiment.
    ExperimentUpdate,
    /// Delete an experiment.
    ExperimentDelete,
    /// Read runs, their metrics, params, tags and artifacts.
    RunRead,
    /// Start a run.
    RunCreate,
    /// Log to a run: metrics, params, tags, artifacts, status.
    RunWrite,
    /// Delete a run.
    RunDelete,
    /// Read registered models and their versions.
    ModelRead,
    /// Register a model.
    ModelCreate,
    /// Change a registered model.
    ModelUpdate,
    /// Add a model version.
    ModelVersionCreate,
    /// Change a model version (stage, description).
    ModelVersionUpdate,
    /// Set, move or delete a model alias.
    AliasWrite,
    /// Approve or reject a model version's promotion to a gated alias (never one's own).
    ModelVersionApprove,
    /// Set and delete promotion gates.
    GateManage,
    /// Read the lineage graph.
    LineageRead,
    /// Read a project's audit log.
    AuditRead,
    /// Read check reports (requires clearance for the sensitivity of the datasets they judge).
    ReportRead,
    /// Run a check (profile, quality suite, drift, fairness) on dataset versions.
    CheckRun,
    /// Read monitors, their jobs and alerts.
    MonitorRead,
    /// Create, change, delete and trigger monitors.
    MonitorManage,
    /// Acknowledge and resolve alerts.
    AlertUpdate,
    /// Create and delete webhooks and read their delivery log.
    WebhookManage,
    /// Create, change and disable users (global).
    UserManage,
    /// Change the permission rules (global).
    PolicyManage,
    /// Read the audit log of every project and of global actions (global).
    AuditReadAll,
}

named_enum!(Action, "action", {
    ProjectCreate => "project.create",
    ProjectRead => "project.read",
    ProjectUpdate => "project.update",
    MembersManage => "project.manage_members",
    DatasetRead => "dataset.read",
    DatasetCreate => "dataset.create",
    DatasetWrite => "dataset.write",
    DatasetReadData => "dataset.read_data",
    DatasetQueryDp => "dataset.query_dp",
    PrivacyManage => "privacy.manage",
    PrivacyRead => "privacy.read",
    DatasetUpdate => "dataset.update",
    ExperimentRead => "experiment.read",
    ExperimentCreate => "experiment.create",
    ExperimentUpdate => "experiment.update",
    ExperimentDelete => "experiment.delete",
    RunRead => "run.read",
    RunCreate => "run.create",
    RunWrite => "run.write",
    RunDelete => "run.delete",
    ModelRead => "model.read",
    ModelCreate => "model.create",
    ModelUpdate => "model.update",
    ModelVersionCreate => "model_version.create",
    ModelVersionUpdate => "model_version.update",
    AliasWrite => "model.alias",
    ModelVersionApprove => "model_version.approve",
    GateManage => "gate.manage",
    LineageRead => "lineage.read",
    AuditRead => "audit.read",
    ReportRead => "report.read",
    CheckRun => "check.run",
    MonitorRead => "monitor.read",
    MonitorManage => "monitor.manage",
    AlertUpdate => "alert.update",
    WebhookManage => "webhook.manage",
    UserManage => "user.manage",
    PolicyManage => "policy.manage",
    AuditReadAll => "audit.read_all",
});

impl Action {
    /// Every action, in table order.
    pub const ALL: &[Action] = &[
        Action::ProjectCreate,
        Action::ProjectRead,
        Action::ProjectUpdate,
        Action::MembersManage,
        Action::DatasetRead,
        Action::DatasetCreate,
        Action::DatasetWrite,
        Action::DatasetReadData,
        Action::DatasetQueryDp,
        Action::PrivacyManage,
        Action::PrivacyRead,
        Action::DatasetUpdate,
        Action::ExperimentRead,
        Action::ExperimentCreate,
        Action::ExperimentUpdate,
        Action::ExperimentDelete,
        Action::RunRead,
        Action::RunCreate,
        Action::RunWrite,
        Action::RunDelete,
        Action::ModelRead,
        Action::ModelCreate,
        Action::ModelUpdate,
        Action::ModelVersionCreate,
        Action::ModelVersionUpdate,
        Action::AliasWrite,
        Action::ModelVersionApprove,
        Action::GateManage,
        Action::LineageRead,
        Action::AuditRead,
        Action::ReportRead,
        Action::CheckRun,
        Action::MonitorRead,
        Action::MonitorManage,
        Action::AlertUpdate,
        Action::WebhookManage,
        Action::UserManage,
        Action::PolicyManage,
        Action::AuditReadAll,
    ];

    /// Whether the action only reads (`*.read`, `dataset.read_data`, `audit.read_all`).
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Action::ProjectRead
                | Action::DatasetRead
                | Action::DatasetReadData
                | Action::ExperimentRead
                | Action::RunRead
                | Action::ModelRead
                | Action::LineageRead
                | Action::AuditRead
                | Action::ReportRead
                | Action::MonitorRead
                | Action::PrivacyRead
                | Action::AuditReadAll
        )
    }

    /// Whether the action reveals dataset contents, so that the clearance condition compares
    /// the subject's clearance with the dataset's sensitivity (reports carry histograms and
    /// category counts of the rows they judge).
    pub fn reveals_data(&self) -> bool {
        matches!(self, Action::DatasetReadData | Action::ReportRead)
    }

    /// Whether the action is checked in the global domain `*` rather than in a project.
    pub fn is_global(&self) -> bool {
        matches!(
            self,
            Action::ProjectCreate
                | Action::UserManage
                | Action::PolicyManage
                | Action::AuditReadAll
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut names = std::collections::HashSet::new();
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>().ok(), Some(*a));
            assert!(names.insert(a.as_str()), "duplicate {a}");
            assert!(a.as_str().contains('.'));
        }
        assert_eq!(Action::ALL.len(), 39);
        assert!("run.fly".parse::<Action>().is_err());
    }

    #[test]
    fn reads_and_globals() {
        let reads: Vec<_> = Action::ALL.iter().filter(|a| a.is_read()).collect();
        for a in &reads {
            let n = a.as_str();
            assert!(n.ends_with(".read") || n.ends_with(".read_data") || n.ends_with(".read_all"));
        }
        assert_eq!(reads.len(), 12);
        assert!(Action::AuditReadAll.is_global() && Action::AuditReadAll.is_read());
        assert!(!Action::RunWrite.is_read() && !Action::RunWrite.is_global());
        let globals = Action::ALL.iter().filter(|a| a.is_global()).count();
        assert_eq!(globals, 4);
    }
}
