//! Stored rules and their translation to casbin policies.

use super::user_key;
use crate::error::{Error, Result};
use crate::model::{Action, Condition, Role, default_permissions};

/// One stored rule, as a database row holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `p` (permission) or `g` (role binding).
    pub ptype: String,
    /// `p`: the role; `g`: the user name.
    pub v0: String,
    /// `p`: the action name or `*`; `g`: the role.
    pub v1: String,
    /// `p`: the condition name (empty for none); `g`: the domain (project name or `*`).
    pub v2: String,
}

impl Rule {
    /// A permission rule: `role` may do `action` (a name or `*`) under `condition`.
    pub fn permission(role: Role, action: &str, condition: Condition) -> Self {
        Rule {
            ptype: "p".to_owned(),
            v0: role.as_str().to_owned(),
            v1: action.to_owned(),
            v2: condition.as_str().to_owned(),
        }
    }

    /// A role binding: `user` holds `role` in `domain` (a project name or `*`).
    pub fn binding(user: &str, role: Role, domain: &str) -> Self {
        Rule {
            ptype: "g".to_owned(),
            v0: user.to_owned(),
            v1: role.as_str().to_owned(),
            v2: domain.to_owned(),
        }
    }

    /// Checks the rule's values and returns its casbin section and values.
    pub(super) fn to_casbin(&self) -> Result<(&'static str, Vec<String>)> {
        let invalid = |what: &str| {
            Error::InvalidArgument(format!(
                "invalid {} rule ({}, {}, {}): {what}",
                self.ptype, self.v0, self.v1, self.v2
            ))
        };
        match self.ptype.as_str() {
            "p" => {
                self.v0
                    .parse::<Role>()
                    .map_err(|e| invalid(&e.to_string()))?;
                if self.v1 != "*" {
                    self.v1
                        .parse::<Action>()
                        .map_err(|e| invalid(&e.to_string()))?;
                }
                self.v2
                    .parse::<Condition>()
                    .map_err(|e| invalid(&e.to_string()))?;
                Ok(("p", vec![self.v0.clone(), self.v1.clone(), self.v2.clone()]))
            }
            "g" => {
                if self.v0.is_empty() {
                    return Err(invalid("the user name is empty"));
                }
                self.v1
                    .parse::<Role>()
                    .map_err(|e| invalid(&e.to_string()))?;
                if self.v2.is_empty() {
                    return Err(invalid("the domain is empty"));
                }
                Ok((
                    "g",
                    vec![user_key(&self.v0), self.v1.clone(), self.v2.clone()],
                ))
            }
            other => Err(Error::InvalidArgument(format!(
                "unknown rule type '{other}' (expected p or g)"
            ))),
        }
    }
}

/// The `p` rules of [`default_permissions`].
pub fn default_rules() -> Vec<Rule> {
    default_permissions()
        .into_iter()
        .map(|p| Rule::permission(p.role, &p.action, p.condition))
        .collect()
}
