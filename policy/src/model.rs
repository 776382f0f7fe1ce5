//! Domain vocabulary: sensitivity levels, roles, actions, rule conditions and the default
//! permission table (which role may do which action, and under which condition).

mod action;
mod permissions;

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

pub use action::Action;
pub use permissions::{Permission, default_permissions, permission_table_markdown};

/// Implements `as_str`, `Display` and `FromStr` for a fieldless enum from a list of
/// `Variant => "name"` pairs; `$what` names the vocabulary in parse errors.
macro_rules! named_enum {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// The stable lowercase name, as stored in rules and sent over the wire.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self, Error> {
                match s {
                    $($name => Ok($ty::$variant),)+
                    _ => Err(Error::InvalidArgument(format!(
                        "unknown {} '{}' (expected one of: {})",
                        $what,
                        s,
                        [$($name),+]
                            .map(|n| if n.is_empty() { "\"\"" } else { n })
                            .join(", ")
                    ))),
                }
            }
        }
    };
}
pub(crate) use named_enum;

/// How sensitive a dataset's contents are; a principal's clearance is one of these too.
/// Ordered from least to most sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sensitivity {
    /// Anyone with read access may see it. Every non-dataset object is public.
    Public,
    /// Internal to the organisation.
    Internal,
    /// Limited to those who need it.
    Confidential,
    /// The most sensitive class.
    Restricted,
}

named_enum!(Sensitivity, "sensitivity", {
    Public => "public",
    Internal => "internal",
    Confidential => "confidential",
    Restricted => "restricted",
});

impl Sensitivity {
    /// Every level, least sensitive first.
    pub const ALL: [Sensitivity; 4] = [
        Sensitivity::Public,
        Sensitivity::Internal,
        Sensitivity::Confidential,
        Sensitivity::Restricted,
    ];

    /// The level as a number, 0 (public) to 3 (restricted); clearance must be at least the
    /// object's rank.
    pub fn rank(&self) -> i64 {
        match self {
            Sensitivity::Public => 0,
            Sensitivity::Internal => 1,
            Sensitivity::Confidential => 2,
            Sensitivity::Restricted => 3,
        }
    }
}

/// A role a user holds, either in one project or (for admin, or any role bound in the global
/// domain `*`) everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Everything everywhere (global), still bound by clearance on raw data.
    Admin,
    /// Runs a project: everything a maintainer does plus settings, members and audit.
    Owner,
    /// Curates a project: updates and deletes anyone's experiments, runs and models.
    Maintainer,
    /// Adds data, experiments, runs and models; changes only their own runs.
    Contributor,
    /// Reads everything in a project (raw data within clearance).
    Viewer,
    /// A viewer who may also read the project's audit log.
    Auditor,
    /// A viewer who approves model promotions.
    Approver,
}

named_enum!(Role, "role", {
    Admin => "admin",
    Owner => "owner",
    Maintainer => "maintainer",
    Contributor => "contributor",
    Viewer => "viewer",
    Auditor => "auditor",
    Approver => "approver",
});

impl Role {
    /// Every role, admin first.
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::Owner,
        Role::Maintainer,
        Role::Contributor,
        Role::Viewer,
        Role::Auditor,
        Role::Approver,
    ];

    /// The roles that can be granted in a project (all but admin).
    pub const PROJECT_ROLES: [Role; 6] = [
        Role::Owner,
        Role::Maintainer,
        Role::Contributor,
        Role::Viewer,
        Role::Auditor,
        Role::Approver,
    ];

    /// Whether the role can be granted in a project (everything but admin).
    pub fn is_project_role(&self) -> bool {
        !matches!(self, Role::Admin)
    }
}

/// The extra condition a permission rule carries beyond role and action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Condition {
    /// No condition (stored as the empty string).
    #[default]
    Always,
    /// The subject's clearance must be at least the object's sensitivity.
    Clearance,
    /// The subject must own the object (e.g. created the run).
    Owner,
}

named_enum!(Condition, "condition", {
    Always => "",
    Clearance => "clearance",
    Owner => "owner",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitivity_round_trips_and_orders() {
        for (i, s) in Sensitivity::ALL.iter().enumerate() {
            assert_eq!(s.as_str().parse::<Sensitivity>().ok(), Some(*s));
            assert_eq!(s.rank(), i as i64);
        }
        assert!(Sensitivity::Public < Sensitivity::Restricted);
        let err = "secret".parse::<Sensitivity>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "unknown sensitivity 'secret' (expected one of: public, internal, confidential, restricted)"
            )
        );
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().ok(), Some(r));
            assert_eq!(r.is_project_role(), Role::PROJECT_ROLES.contains(&r));
        }
        assert!(!Role::Admin.is_project_role());
        assert!("Admin".parse::<Role>().is_err());
    }

    #[test]
    fn conditions_round_trip() {
        for c in [Condition::Always, Condition::Clearance, Condition::Owner] {
            assert_eq!(c.as_str().parse::<Condition>().ok(), Some(c));
        }
        assert_eq!(Condition::Always.as_str(), "");
        assert!("always".parse::<Condition>().is_err());
    }
}
