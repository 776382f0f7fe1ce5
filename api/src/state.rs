//! Shared state of the HTTP handlers.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use verity_policy::{Authorizer, LoginLimiter, Rule};
use verity_store::Store;

use crate::auth::AuthMode;
use crate::error::ApiResult;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// Metadata and blobs.
    pub store: Store,
    /// The principal that acts when authentication is disabled.
    pub local_principal: Arc<str>,
    /// Largest JSON body, in bytes.
    pub max_body_bytes: usize,
    /// Whether requests must authenticate.
    pub auth_mode: AuthMode,
    /// casbin rules loaded from the database.
    pub authorizer: Arc<Authorizer>,
    /// The rules' revision the authorizer holds.
    pub policy_revision: Arc<AtomicI64>,
    /// Held while reloading, so that an older load cannot replace a newer one.
    pub policy_reload: Arc<tokio::sync::Mutex<()>>,
    /// Login attempt limits.
    pub login_limiter: Arc<LoginLimiter>,
    /// Lifetime of a dashboard session.
    pub session_ttl: Duration,
    /// Whether session cookies carry `Secure` (served over TLS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// The project MLflow clients log into.
    pub mlflow_project: Arc<str>,
    /// MLflow multipart artifact uploads in progress.
    pub mlflow_uploads: Arc<crate::mlflow::Uploads>,
    /// Settings of the request guards (proxies, hosts, body deadlines).
    pub guard: Arc<crate::guard::GuardConfig>,
    /// What one check or evaluation may use (memory).
    pub check_limits: verity_monitor::source::Limits,
}

impl std::ops::Deref for AppState {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

/// The stored rules, as the authorizer takes them.
pub async fn load_rules(store: &Store) -> verity_store::Result<(i64, Vec<Rule>)> {
    // Read the revision first: a change that lands in between is picked up by the next check.
    let revision = store.policy_revision().await?;
    let rules = store
        .policy_rules()
        .await?
        .into_iter()
        .map(|r| Rule {
            ptype: r.ptype,
            v0: r.v0,
            v1: r.v1,
            v2: r.v2,
        })
        .collect();
    Ok((revision, rules))
}

impl AppState {
    /// Reloads the rules when the stored revision differs from the loaded one (another
    /// process, or this one, changed them). Returns whether it reloaded.
    pub async fn refresh_policies(&self) -> ApiResult<bool> {
        let current = self.store.policy_revision().await?;
        if current == self.policy_revision.load(Ordering::Acquire) {
            return Ok(false);
        }
        self.reload_policies().await?;
        Ok(true)
    }

    /// Reloads the rules now (after this process changed them).
    pub async fn reload_policies(&self) -> ApiResult<()> {
        let _one_at_a_time = self.policy_reload.lock().await;
        let (revision, rules) = load_rules(&self.store).await?;
        self.authorizer.reload(&rules).await?;
        self.policy_revision.store(revision, Ordering::Release);
        Ok(())
    }
}
