//! Role-based access control with attribute conditions, evaluated by casbin.
//!
//! Rules come from the caller (the database adapter lives elsewhere): `p` rules grant a role an
//! action under a [`Condition`](crate::model::Condition); `g` rules bind a user to a role in a domain, a project name or
//! `*` for every project. The enforcer is immutable once built: [`Authorizer::reload`] builds a
//! new one and swaps it in, so checks never wait on a reload.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError, RwLock};

use casbin::{Adapter, CoreApi, DefaultModel, Enforcer, MemoryAdapter};
use serde::Serialize;

use crate::error::Result;
use crate::model::{Action, Role, Sensitivity};

mod cache;
mod rule;

use cache::{Decisions, Key};
pub use rule::{Rule, default_rules};

/// The global domain: roles bound here apply in every project, and global actions are checked
/// here.
pub const GLOBAL_DOMAIN: &str = "*";

/// The casbin model. Requests are (subject, domain, action, object); policies are
/// (role, action or `*`, condition); `g` binds (user, role, domain). The action comparison comes
/// first so that most policies are rejected before the role lookups.
pub const CASBIN_MODEL: &str = r#"
[request_definition]
r = sub, dom, act, obj

[policy_definition]
p = sub, act, cond

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = (p.act == "*" || p.act == r.act) \
  && (g(r.sub.name, p.sub, r.dom) || g(r.sub.name, p.sub, "*")) \
  && (p.cond == "" \
    || (p.cond == "clearance" && r.sub.clearance >= r.obj.sensitivity) \
    || (p.cond == "owner" && r.obj.owner == r.sub.name))
"#;

/// Prefix given to user names inside the enforcer. casbin's role manager treats a name as
/// linked to itself, so without it a user called `admin` would hold the admin role.
const USER_PREFIX: &str = "u:";

/// Who asks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subject {
    /// The user name.
    pub name: String,
    /// The most sensitive data class the user may read raw.
    pub clearance: Sensitivity,
}

/// What is asked about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Object {
    /// The object's sensitivity (a dataset's class; [`Sensitivity::Public`] for anything else).
    /// Only `dataset.read_data` compares it with the subject's clearance.
    pub sensitivity: Sensitivity,
    /// The user who owns the object (e.g. created the run), if any.
    pub owner: Option<String>,
}

impl Object {
    /// A public object without an owner (projects, experiments, models, ...).
    pub fn public() -> Self {
        Object {
            sensitivity: Sensitivity::Public,
            owner: None,
        }
    }
}

/// The subject as the matcher sees it; `name` carries the user prefix.
#[derive(Serialize, Hash)]
struct RequestSubject<'a> {
    name: &'a str,
    clearance: i64,
}

/// The object as the matcher sees it; `owner` is the subject's `name` when the subject owns
/// the object and empty otherwise.
#[derive(Serialize, Hash)]
struct RequestObject<'a> {
    sensitivity: i64,
    owner: &'a str,
}

fn user_key(user: &str) -> String {
    format!("{USER_PREFIX}{user}")
}

/// One set of rules: the enforcer built from them and the decisions it has made.
struct Snapshot {
    enforcer: Enforcer,
    decisions: Decisions,
}

/// Checks requests against the loaded rules; share it behind an `Arc`.
///
/// casbin evaluates the matcher once per `p` rule (about 55 µs a check with the default
/// rules, in release), so decisions are cached per (user, clearance, domain, action,
/// sensitivity, owns) until the next reload.
pub struct Authorizer {
    current: RwLock<Arc<Snapshot>>,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer").finish_non_exhaustive()
    }
}

impl Authorizer {
    /// Builds an authorizer over `rules` (usually [`default_rules`] plus the stored bindings).
    pub async fn new(rules: &[Rule]) -> Result<Self> {
        Ok(Authorizer {
            current: RwLock::new(Arc::new(build(rules).await?)),
        })
    }

    /// Replaces the rules and forgets every cached decision. Checks running meanwhile finish
    /// against the old rules; on an error the old rules stay in force.
    pub async fn reload(&self, rules: &[Rule]) -> Result<()> {
        let fresh = Arc::new(build(rules).await?);
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = fresh;
        Ok(())
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Whether `sub` may perform `action` on `obj` in project `domain`. Global actions are
    /// checked in the global domain whatever `domain` says; the object's sensitivity only
    /// counts for actions that [reveal data](Action::reveals_data).
    pub fn check(&self, sub: &Subject, domain: &str, action: Action, obj: &Object) -> Result<bool> {
        let domain = if action.is_global() {
            GLOBAL_DOMAIN
        } else {
            domain
        };
        let sensitivity = if action.reveals_data() {
            obj.sensitivity
        } else {
            Sensitivity::Public
        };
        let owns = obj
            .owner
            .as_deref()
            .is_some_and(|owner| !owner.is_empty() && owner == sub.name);
        let key = Key {
            name: sub.name.clone(),
            clearance: sub.clearance.rank(),
            domain: domain.to_owned(),
            action,
            sensitivity: sensitivity.rank(),
            owns,
        };
        let snapshot = self.snapshot();
        if let Some(allowed) = snapshot.decisions.get(&key) {
            return Ok(allowed);
        }
        let name = user_key(&sub.name);
        let request = (
            RequestSubject {
                name: &name,
                clearance: key.clearance,
            },
            domain,
            action.as_str(),
            RequestObject {
                sensitivity: key.sensitivity,
                owner: if owns { &name } else { "" },
            },
        );
        let allowed = snapshot.enforcer.enforce(request)?;
        snapshot.decisions.insert(key, allowed);
        Ok(allowed)
    }

    /// The roles `user` holds in `domain` itself (bindings in `*` show only for `*`), sorted.
    pub fn roles(&self, user: &str, domain: &str) -> Vec<Role> {
        let snapshot = self.snapshot();
        let rm = snapshot.enforcer.get_role_manager();
        let names = rm.read().get_roles(&user_key(user), Some(domain));
        let roles: HashSet<Role> = names.iter().filter_map(|n| n.parse().ok()).collect();
        let mut roles: Vec<Role> = roles.into_iter().collect();
        roles.sort();
        roles
    }

    /// Whether `user` holds the admin role in the global domain.
    pub fn is_admin(&self, user: &str) -> bool {
        let snapshot = self.snapshot();
        let rm = snapshot.enforcer.get_role_manager();
        rm.read()
            .has_link(&user_key(user), Role::Admin.as_str(), Some(GLOBAL_DOMAIN))
    }
}

/// Builds a fresh enforcer over `rules`, with an empty decision cache.
async fn build(rules: &[Rule]) -> Result<Snapshot> {
    let mut adapter = MemoryAdapter::default();
    for rule in rules {
        let (sec, values) = rule.to_casbin()?;
        // Duplicates are harmless: the adapter keeps a set.
        adapter.add_policy(sec, sec, values).await?;
    }
    let model = DefaultModel::from_str(CASBIN_MODEL).await?;
    Ok(Snapshot {
        enforcer: Enforcer::new(model, adapter).await?,
        decisions: Decisions::default(),
    })
}

#[cfg(test)]
mod tests;
