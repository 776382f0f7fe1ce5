//! Users, API tokens and dashboard sessions. Secrets are never stored: passwords as argon2
//! hashes (computed by the caller), tokens and session ids as SHA-256 digests.

use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::{Actor, NewEvent, append};
use crate::error::map_unique;
use crate::model::Page;
use crate::{Error, PageRequest, Result, Store, now_ms, validate};

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    /// Internal id.
    pub id: i64,
    /// Login name, unique.
    pub name: String,
    /// Highest dataset sensitivity whose raw rows the user may read.
    pub clearance: String,
    /// When the account was disabled, if it is.
    pub disabled_at: Option<i64>,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    /// New clearance.
    pub clearance: Option<String>,
    /// Disable (`true`) or enable (`false`).
    pub disabled: Option<bool>,
    /// New argon2 password hash set by an administrator (a reset): ends every session of the
    /// user and revokes every token.
    pub password_hash: Option<String>,
}

/// The credential a user changed their own password with, which keeps working; every other
/// session ends and every other token is revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeptCredential<'a> {
    /// A dashboard session, by the digest of its id.
    Session(&'a str),
    /// An API token, by id.
    Token(i64),
    /// Nothing is kept (authentication is disabled).
    Nothing,
}

/// Ends the user's sessions and revokes their tokens, except `keep`; returns how many of each.
async fn end_credentials(
    conn: &mut AnyConnection,
    user_id: i64,
    keep: KeptCredential<'_>,
    now: i64,
) -> Result<(u64, u64)> {
    let (keep_session, keep_token) = match keep {
        KeptCredential::Session(digest) => (digest, -1),
        KeptCredential::Token(id) => ("", id),
        KeptCredential::Nothing => ("", -1),
    };
    let sessions = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND digest <> $2")
        .bind(user_id)
        .bind(keep_session)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let tokens = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND id <> $3",
    )
    .bind(now)
    .bind(user_id)
    .bind(keep_token)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok((sessions, tokens))
}

/// An API token's metadata (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Internal id.
    pub id: i64,
    /// Owner's name.
    pub user_name: String,
    /// Label given at creation.
    pub name: String,
    /// The recognisable start of the secret, for display.
    pub display_prefix: String,
    /// When set, the token works only in this project.
    pub project: Option<String>,
    /// Whether the token may only read.
    pub read_only: bool,
    /// Expiry (ms), if any.
    pub expires_at: Option<i64>,
    /// Revocation time, if revoked.
    pub revoked_at: Option<i64>,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
}

/// What a new token records; the caller generates the secret and passes only its digest.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Label.
    pub name: String,
    /// Display prefix of the secret.
    pub display_prefix: String,
    /// SHA-256 digest (hex) of the secret.
    pub digest: String,
    /// Project scope.
    pub project: Option<String>,
    /// Read-only flag.
    pub read_only: bool,
    /// Expiry (ms).
    pub expires_at: Option<i64>,
    /// The token that created this one, if a token did: revoking it revokes this one.
    pub parent_id: Option<i64>,
}

/// A live dashboard session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Its user.
    pub user: User,
    /// The CSRF token cookie-authenticated mutations must echo.
    pub csrf_token: String,
    /// Server-side expiry (ms).
    pub expires_at: i64,
}

impl<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> for ApiToken {
    fn from_row(row: &'r sqlx::any::AnyRow) -> std::result::Result<Self, sqlx::Error> {
        use sqlx::Row as _;
        Ok(Self {
            id: row.try_get("id")?,
            user_name: row.try_get("user_name")?,
            name: row.try_get("name")?,
            display_prefix: row.try_get("display_prefix")?,
            project: row.try_get("project")?,
            read_only: row.try_get::<i64, _>("read_only")? != 0,
            expires_at: row.try_get("expires_at")?,
            revoked_at: row.try_get("revoked_at")?,
            created_by: row.try_get("created_by")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

const SELECT_USER: &str =
    "SELECT id, name, clearance, disabled_at, created_by, created_at FROM users";
const SELECT_TOKEN: &str = "SELECT t.id, u.name AS user_name, t.name, t.display_prefix, t.project, \
     t.read_only, t.expires_at, t.revoked_at, t.created_by, t.created_at \
     FROM api_tokens t JOIN users u ON u.id = t.user_id";

async fn user_id(conn: &mut AnyConnection, name: &str) -> Result<i64> {
    sqlx::query_scalar("SELECT id FROM users WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::not_found("user", name))
}

impl Store {
    /// Number of user accounts.
    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.inner.read)
            .await?)
    }

    /// Creates a user with an argon2 password hash.
    pub async fn create_user(
        &self,
        name: &str,
        password_hash: &str,
        clearance: &str,
        actor: &Actor,
    ) -> Result<User> {
        self.insert_user(name, password_hash, clearance, false, actor)
            .await
    }

    /// Creates a user bound to the global `admin` role, in one transaction (a crash cannot
    /// leave an administrator without the role).
    pub async fn create_admin_user(
        &self,
        name: &str,
        password_hash: &str,
        clearance: &str,
        actor: &Actor,
    ) -> Result<User> {
        self.insert_user(name, password_hash, clearance, true, actor)
            .await
    }

    async fn insert_user(
        &self,
        name: &str,
        password_hash: &str,
        clearance: &str,
        admin: bool,
        actor: &Actor,
    ) -> Result<User> {
        validate::user_name(name)?;
        validate::sensitivity(clearance)?;
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO users (name, password_hash, clearance, password_changed_at, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(name)
        .bind(password_hash)
        .bind(clearance)
        .bind(now)
        .bind(&actor.principal)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map_unique("user", name))?;
        if admin {
            crate::policies::insert_rule(&mut tx, ("g", name, "admin", "*"), actor).await?;
            crate::policies::bump_revision(&mut tx).await?;
        }
        let event = NewEvent::success(
            "user.create",
            format!("user/{name}"),
            None,
            json!({"clearance": clearance, "admin": admin}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        self.get_user(name).await
    }

    /// Reads a user.
    pub async fn get_user(&self, name: &str) -> Result<User> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_USER} WHERE name = $1"
        )))
        .bind(name)
        .fetch_optional(&self.inner.read)
        .await?
        .ok_or_else(|| Error::not_found("user", name))
    }

    /// A user and their password hash, for login; `None` when there is no such user.
    pub async fn user_credentials(&self, name: &str) -> Result<Option<(User, String)>> {
        let user: Option<User> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_USER} WHERE name = $1"
        )))
        .bind(name)
        .fetch_optional(&self.inner.read)
        .await?;
        let Some(user) = user else { return Ok(None) };
        let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(user.id)
            .fetch_one(&self.inner.read)
            .await?;
        Ok(Some((user, hash)))
    }

    /// Lists users by id.
    pub async fn list_users(&self, page: &PageRequest) -> Result<Page<User>> {
        let rows: Vec<User> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_USER} WHERE id > $1 ORDER BY id LIMIT $2"
        )))
        .bind(page.after_key())
        .bind(page.fetch())
        .fetch_all(&self.inner.read)
        .await?;
        Ok(Page::from_rows(rows, page, |u| u.id))
    }

    /// Changes a user's clearance, enabled state or password. Disabling ends the user's
    /// sessions and stops their tokens (checked on every request); a new password (a reset)
    /// ends the sessions and revokes the tokens for good.
    pub async fn update_user(&self, name: &str, update: UserUpdate, actor: &Actor) -> Result<User> {
        if let Some(clearance) = &update.clearance {
            validate::sensitivity(clearance)?;
        }
        let mut tx = self.begin_write().await?;
        let id = user_id(&mut tx, name).await?;
        let now = now_ms();
        let mut details = serde_json::Map::new();
        if let Some(clearance) = &update.clearance {
            sqlx::query("UPDATE users SET clearance = $1 WHERE id = $2")
                .bind(clearance)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            details.insert("clearance".into(), json!(clearance));
        }
        if let Some(disabled) = update.disabled {
            sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
                .bind(disabled.then_some(now))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            details.insert("disabled".into(), json!(disabled));
        }
        if let Some(hash) = &update.password_hash {
            sqlx::query(
                "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3",
            )
            .bind(hash)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            details.insert("password_changed".into(), json!(true));
            let (sessions, tokens) =
                end_credentials(&mut tx, id, KeptCredential::Nothing, now).await?;
            details.insert("sessions_ended".into(), json!(sessions));
            details.insert("tokens_revoked".into(), json!(tokens));
        }
        if update.disabled == Some(true) {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let event = NewEvent::success(
            "user.update",
            format!("user/{name}"),
            None,
            serde_json::Value::Object(details),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        self.get_user(name).await
    }

    /// Sets a user's own new password (the caller checked the current one): every session
    /// but `keep` ends and every token but `keep` is revoked, in the same transaction.
    pub async fn change_own_password(
        &self,
        name: &str,
        password_hash: &str,
        keep: KeptCredential<'_>,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let id = user_id(&mut tx, name).await?;
        let now = now_ms();
        sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let (sessions, tokens) = end_credentials(&mut tx, id, keep, now).await?;
        let event = NewEvent::success(
            "user.change_password",
            format!("user/{name}"),
            None,
            json!({"sessions_ended": sessions, "tokens_revoked": tokens}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a new API token for `user`.
    pub async fn create_token(&self, user: &str, new: NewToken, actor: &Actor) -> Result<ApiToken> {
        validate::name("token name", &new.name)?;
        let mut tx = self.begin_write().await?;
        let user_id = user_id(&mut tx, user).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, display_prefix, digest, project, read_only, expires_at, parent_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(user_id)
        .bind(&new.name)
        .bind(&new.display_prefix)
        .bind(&new.digest)
        .bind(&new.project)
        .bind(i64::from(new.read_only))
        .bind(new.expires_at)
        .bind(new.parent_id)
        .bind(&actor.principal)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        let event = NewEvent::success(
            "token.create",
            format!("token/{id}"),
            new.project.as_deref(),
            json!({"user": user, "prefix": new.display_prefix, "read_only": new.read_only, "expires_at": new.expires_at, "parent_id": new.parent_id}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        self.get_token(id).await
    }

    /// Reads a token's metadata.
    pub async fn get_token(&self, id: i64) -> Result<ApiToken> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_TOKEN} WHERE t.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.inner.read)
        .await?
        .ok_or_else(|| Error::not_found("token", id))
    }

    /// Lists tokens, of one user or of everybody.
    pub async fn list_tokens(
        &self,
        user: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<ApiToken>> {
        let rows: Vec<ApiToken> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_TOKEN} WHERE t.id > $1 AND ($2 = 0 OR u.name = $3) ORDER BY t.id LIMIT $4"
        )))
        .bind(page.after_key())
        .bind(i64::from(user.is_some()))
        .bind(user.unwrap_or(""))
        .bind(page.fetch())
        .fetch_all(&self.inner.read)
        .await?;
        Ok(Page::from_rows(rows, page, |t| t.id))
    }

    /// Revokes a token and every token it created (transitively); the next request that
    /// presents any of them is refused.
    pub async fn revoke_token(&self, id: i64, actor: &Actor) -> Result<ApiToken> {
        let mut tx = self.begin_write().await?;
        let revoked_at: Option<Option<i64>> =
            sqlx::query_scalar("SELECT revoked_at FROM api_tokens WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        match revoked_at {
            None => return Err(Error::not_found("token", id)),
            Some(Some(_)) => {
                return Err(Error::Conflict(format!("token {id} is already revoked")));
            }
            Some(None) => {}
        }
        let mut all = vec![id];
        let mut frontier = vec![id];
        while let Some(parent) = frontier.pop() {
            let children: Vec<i64> =
                sqlx::query_scalar("SELECT id FROM api_tokens WHERE parent_id = $1")
                    .bind(parent)
                    .fetch_all(&mut *tx)
                    .await?;
            for child in children {
                if !all.contains(&child) {
                    all.push(child);
                    frontier.push(child);
                }
            }
        }
        let now = now_ms();
        for token in &all {
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(token)
            .execute(&mut *tx)
            .await?;
        }
        let event = NewEvent::success(
            "token.revoke",
            format!("token/{id}"),
            None,
            json!({"also_revoked": &all[1..]}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        self.get_token(id).await
    }

    /// The token with this digest and its user, whatever their state (the caller checks
    /// revocation, expiry and the user's state).
    pub async fn token_by_digest(&self, digest: &str) -> Result<Option<(ApiToken, User)>> {
        let token: Option<ApiToken> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_TOKEN} WHERE t.digest = $1"
        )))
        .bind(digest)
        .fetch_optional(&self.inner.read)
        .await?;
        let Some(token) = token else { return Ok(None) };
        let user = self.get_user(&token.user_name).await?;
        Ok(Some((token, user)))
    }

    /// Starts a session after a successful login and records the login, in one transaction.
    pub async fn create_session(
        &self,
        user: &str,
        digest: &str,
        csrf_token: &str,
        expires_at: i64,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let user_id = user_id(&mut tx, user).await?;
        let now = now_ms();
        // Expired sessions are removed as new ones start.
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (digest, user_id, csrf_token, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(digest)
        .bind(user_id)
        .bind(csrf_token)
        .bind(expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let event = NewEvent::success(
            "auth.login",
            format!("user/{user}"),
            None,
            json!({"method": "password"}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The live session with this digest, if any (expired sessions are not returned).
    pub async fn session_by_digest(&self, digest: &str) -> Result<Option<Session>> {
        let row: Option<(i64, String, i64)> = sqlx::query_as(
            "SELECT user_id, csrf_token, expires_at FROM sessions WHERE digest = $1 AND expires_at > $2",
        )
        .bind(digest)
        .bind(now_ms())
        .fetch_optional(&self.inner.read)
        .await?;
        let Some((user_id, csrf_token, expires_at)) = row else {
            return Ok(None);
        };
        let user: User =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_USER} WHERE id = $1")))
                .bind(user_id)
                .fetch_one(&self.inner.read)
                .await?;
        Ok(Some(Session {
            user,
            csrf_token,
            expires_at,
        }))
    }

    /// Ends a session (logout) and records it.
    pub async fn delete_session(&self, digest: &str, actor: &Actor) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE digest = $1")
            .bind(digest)
            .execute(&mut *tx)
            .await?;
        let event = NewEvent::success(
            "auth.logout",
            format!("user/{}", actor.principal),
            None,
            json!({}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(())
    }
}
