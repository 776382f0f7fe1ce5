//! Start-up bootstrap (default rules, the first administrator) and the `verity user`,
//! `verity token` and `verity audit` commands, which work on the storage directly.

use std::io::BufRead as _;

use anyhow::{Context as _, bail};
use verity_store::{Actor, NewToken, PageRequest, Store, UserUpdate, now_ms};

use crate::config::{AuditCommand, TokenCommand, UserCommand};

/// The actor of changes made from the command line.
/// The actor of a CLI command run on the server's storage.
pub(crate) fn cli_actor() -> Actor {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    Actor {
        principal: "cli".into(),
        request_id: None,
        client_addr: Some(format!("local:{user}")),
    }
}

/// The actor of what the server does by itself at start-up.
pub fn system_actor() -> Actor {
    Actor::from("system")
}

/// Writes the default role permissions into a database that never had rules.
pub async fn seed_rules(store: &Store) -> anyhow::Result<()> {
    let rules: Vec<(String, String, String, String)> = verity_policy::default_rules()
        .into_iter()
        .map(|r| (r.ptype, r.v0, r.v1, r.v2))
        .collect();
    if store.seed_policy_rules(&rules, &system_actor()).await? {
        tracing::info!(rules = rules.len(), "wrote the default access rules");
    }
    Ok(())
}

/// With no users at all, creates the administrator `admin`; its password comes from
/// `VERITY_ADMIN_PASSWORD` or is generated and printed once.
pub async fn bootstrap_admin(store: &Store) -> anyhow::Result<()> {
    if store.count_users().await? > 0 {
        return Ok(());
    }
    let (password, generated) = match std::env::var("VERITY_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => {
            verity_policy::validate_new_password(&p).context("VERITY_ADMIN_PASSWORD")?;
            (p, false)
        }
        _ => (verity_policy::generate_password(), true),
    };
    create_user(
        store,
        "admin",
        &password,
        "restricted",
        true,
        &system_actor(),
    )
    .await?;
    if generated {
        // Standard error, never the log: the log may be shipped elsewhere.
        eprintln!("created the first administrator 'admin' with the password: {password}");
        eprintln!("(shown once: store it, or set VERITY_ADMIN_PASSWORD before the first start)");
    } else {
        println!("created the first administrator 'admin' (password from VERITY_ADMIN_PASSWORD)");
    }
    Ok(())
}

async fn create_user(
    store: &Store,
    name: &str,
    password: &str,
    clearance: &str,
    admin: bool,
    actor: &Actor,
) -> anyhow::Result<()> {
    verity_policy::validate_new_password(password)?;
    let hash = verity_policy::hash_password(password.to_owned()).await?;
    if admin {
        store
            .create_admin_user(name, &hash, clearance, actor)
            .await?;
    } else {
        store.create_user(name, &hash, clearance, actor).await?;
    }
    Ok(())
}

fn password_from(stdin: bool) -> anyhow::Result<(String, bool)> {
    if stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        if password.is_empty() {
            bail!("no password on stdin");
        }
        Ok((password, false))
    } else {
        Ok((verity_policy::generate_password(), true))
    }
}

/// Runs `verity user ...`.
pub async fn user_command(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            name,
            clearance,
            admin,
            password_stdin,
            storage,
        } => {
            let store = crate::open_migrated(&storage).await?;
            seed_rules(&store).await?;
            let (password, generated) = password_from(password_stdin)?;
            create_user(&store, &name, &password, &clearance, admin, &cli_actor()).await?;
            println!(
                "created user '{name}'{}",
                if admin { " (admin)" } else { "" }
            );
            if generated {
                println!("password (shown once): {password}");
            }
        }
        UserCommand::List { storage } => {
            let store = crate::open_migrated(&storage).await?;
            let mut page = PageRequest {
                limit: 1000,
                after: None,
            };
            loop {
                let got = store.list_users(&page).await?;
                for user in &got.items {
                    let state = if user.disabled_at.is_some() {
                        "disabled"
                    } else {
                        "active"
                    };
                    println!("{}\t{}\t{state}", user.name, user.clearance);
                }
                match got.next_cursor {
                    Some(cursor) => page = PageRequest::new(Some(1000), Some(&cursor))?,
                    None => break,
                }
            }
        }
        UserCommand::Disable { name, storage } => {
            let store = crate::open_migrated(&storage).await?;
            let update = UserUpdate {
                disabled: Some(true),
                ..UserUpdate::default()
            };
            store.update_user(&name, update, &cli_actor()).await?;
            println!("disabled user '{name}'");
        }
        UserCommand::ResetPassword {
            name,
            password_stdin,
            storage,
        } => {
            let store = crate::open_migrated(&storage).await?;
            let (password, generated) = password_from(password_stdin)?;
            verity_policy::validate_new_password(&password)?;
            let update = UserUpdate {
                password_hash: Some(verity_policy::hash_password(password.clone()).await?),
                ..UserUpdate::default()
            };
            store.update_user(&name, update, &cli_actor()).await?;
            println!("new password set for '{name}'");
            if generated {
                println!("password (shown once): {password}");
            }
        }
    }
    Ok(())
}

/// Runs `verity token ...`.
pub async fn token_command(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            user,
            name,
            project,
            read_only,
            expires_in_days,
            storage,
        } => {
            let store = crate::open_migrated(&storage).await?;
            if let Some(project) = &project {
                store.get_project(project).await?;
            }
            let expires_at = match expires_in_days {
                Some(days) if (1..=3650).contains(&days) => {
                    Some(now_ms() + i64::from(days) * 24 * 3600 * 1000)
                }
                Some(_) => bail!("--expires-in-days must be between 1 and 3650"),
                None => None,
            };
            let secret = verity_policy::new_token();
            let new = NewToken {
                name,
                display_prefix: secret.display_prefix.clone(),
                digest: secret.digest.clone(),
                project,
                read_only,
                expires_at,
                parent_id: None,
            };
            let token = store.create_token(&user, new, &cli_actor()).await?;
            eprintln!("token {} for '{user}' (shown once):", token.id);
            println!("{}", secret.secret);
        }
        TokenCommand::Revoke { id, storage } => {
            let store = crate::open_migrated(&storage).await?;
            store.revoke_token(id, &cli_actor()).await?;
            println!("revoked token {id}");
        }
    }
    Ok(())
}

/// Runs `verity audit ...`; returns whether the chain is intact.
pub async fn audit_command(command: AuditCommand) -> anyhow::Result<bool> {
    match command {
        AuditCommand::Verify { storage } => {
            // Read-only and without migrating: verifying must not change what it verifies.
            let store = crate::open_read_only(&storage).await?;
            let report = store.verify_audit_chain().await?;
            match report.first_broken {
                None => {
                    println!(
                        "audit trail intact: {} events, head at {}",
                        report.checked, report.head_seq
                    );
                    Ok(true)
                }
                Some(seq) => {
                    println!(
                        "audit trail BROKEN at sequence number {seq}: {}",
                        report.problem.unwrap_or_default()
                    );
                    Ok(false)
                }
            }
        }
    }
}
