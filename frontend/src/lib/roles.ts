// The names of roles, actions and rule conditions (policy/src/model.rs and action.rs), for the
// members and access-rule forms.

/** Project roles, most powerful first. */
export const PROJECT_ROLES = ["owner", "maintainer", "contributor", "viewer", "auditor", "approver"] as const;

/** Every role: the global admin, then the project roles. */
export const ROLES = ["admin", ...PROJECT_ROLES] as const;

/** What each project role may do, in a few words (docs/access-control.md). */
export const ROLE_HINTS: Record<string, string> = {
  owner: "everything in the project, members and audit trail included",
  maintainer: "changes anything: runs, models, aliases, monitors",
  contributor: "creates data, runs, models and checks; changes own runs",
  viewer: "reads (raw data within clearance)",
  auditor: "reads, and reads the project's audit trail",
  approver: "reads (approves promotions)",
};

/** Every action name. */
export const ACTIONS = [
  "project.create", "project.read", "project.update", "project.manage_members",
  "dataset.read", "dataset.create", "dataset.write", "dataset.read_data", "dataset.update",
  "experiment.read", "experiment.create", "experiment.update", "experiment.delete",
  "run.read", "run.create", "run.write", "run.delete",
  "model.read", "model.create", "model.update", "model_version.create", "model_version.update", "model.alias",
  "lineage.read", "audit.read", "report.read", "check.run", "monitor.read", "monitor.manage", "alert.update",
  "webhook.manage", "user.manage", "policy.manage", "audit.read_all",
] as const;

/** Conditions of a `p` rule, with their meaning. */
export const CONDITIONS: Array<[string, string]> = [
  ["", "always"],
  ["clearance", "within the user's clearance"],
  ["owner", "on what the user owns"],
];
