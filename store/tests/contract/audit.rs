//! Contract cases for the audit trail, identity and stored policies (both backends).

use sqlx::Connection as _;
use verity_store::{
    Actor, AuditFilter, ErrorKind, NewEvent, NewToken, Outcome, PageRequest, UserUpdate, now_ms,
};

use crate::{Ctx, Kind, TestResult};

fn actor(name: &str) -> Actor {
    Actor {
        principal: name.to_string(),
        request_id: Some(format!("req-{name}")),
        client_addr: Some("127.0.0.1".to_string()),
    }
}

/// Runs raw SQL under the store, as an attacker with database access would.
async fn raw(ctx: &Ctx, sql: &str) -> TestResult {
    let mut conn = sqlx::AnyConnection::connect(&ctx.database_url).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// Five audited changes: a project, an experiment, a run, a batch, a run update.
async fn five_changes(ctx: &Ctx) -> TestResult {
    let a = actor("alice");
    ctx.store.create_project("p", "", &a).await?;
    let exp = ctx.store.create_experiment("p", "e", "", &a).await?.id;
    let run = ctx
        .store
        .create_run("p", exp, verity_store::NewRun::default(), &a)
        .await?;
    let batch = verity_store::model::LogBatch {
        params: vec![],
        tags: vec![],
        metrics: vec![crate::point("loss", 0.5, 0)],
    };
    ctx.store.log_batch(&run.run.uuid, &batch, &a).await?;
    ctx.store
        .update_run(
            &run.run.uuid,
            verity_store::RunUpdate {
                status: Some("FINISHED".into()),
                ..Default::default()
            },
            &a,
        )
        .await?;
    Ok(())
}

async fn broken_at(ctx: &Ctx) -> Result<Option<i64>, Box<dyn std::error::Error>> {
    Ok(ctx.store.verify_audit_chain().await?.first_broken)
}

pub async fn audit_every_change_is_chained(ctx: Ctx) -> TestResult {
    five_changes(&ctx).await?;
    let page = ctx
        .store
        .list_audit_events(&AuditFilter::default(), &PageRequest::default())
        .await?;
    let actions: Vec<&str> = page.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "project.create",
            "experiment.create",
            "run.create",
            "run.write",
            "run.write"
        ]
    );
    let first = &page.items[0];
    assert_eq!(first.seq, 1);
    assert_eq!(first.prev_hash, verity_store::audit::GENESIS_HASH);
    assert_eq!(
        (
            first.actor.as_str(),
            first.outcome.as_str(),
            first.project.as_deref()
        ),
        ("alice", "success", Some("p"))
    );
    assert_eq!(first.request_id.as_deref(), Some("req-alice"));
    assert_eq!(first.client_addr.as_deref(), Some("127.0.0.1"));
    for pair in page.items.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq + 1);
        assert_eq!(pair[1].prev_hash, pair[0].hash);
        assert_eq!(pair[1].hash, pair[1].expected_hash(&pair[0].hash));
    }
    let batch = &page.items[3];
    assert!(
        batch.details.contains("\"metric_points\":1"),
        "{}",
        batch.details
    );
    let report = ctx.store.verify_audit_chain().await?;
    assert!(report.is_intact(), "{report:?}");
    assert_eq!((report.checked, report.head_seq), (5, 5));
    // Failed changes write nothing.
    let err = ctx.store.create_project("p", "", &actor("bob")).await;
    assert_eq!(
        err.map(|_| ()).map_err(|e| e.kind()),
        Err(ErrorKind::AlreadyExists)
    );
    assert_eq!(ctx.store.verify_audit_chain().await?.head_seq, 5);
    Ok(())
}

pub async fn audit_verify_detects_an_edited_event(ctx: Ctx) -> TestResult {
    five_changes(&ctx).await?;
    raw(
        &ctx,
        "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3",
    )
    .await?;
    assert_eq!(broken_at(&ctx).await?, Some(3));
    // Re-hashing the edited event moves the break to the next one, which still names the old hash.
    let events = ctx
        .store
        .list_audit_events(&AuditFilter::default(), &PageRequest::default())
        .await?
        .items;
    let rehashed = events[2].expected_hash(&events[2].prev_hash);
    raw(
        &ctx,
        &format!("UPDATE audit_events SET hash = '{rehashed}' WHERE seq = 3"),
    )
    .await?;
    assert_eq!(broken_at(&ctx).await?, Some(4));
    Ok(())
}

pub async fn audit_verify_detects_a_deleted_event(ctx: Ctx) -> TestResult {
    five_changes(&ctx).await?;
    raw(&ctx, "DELETE FROM audit_events WHERE seq = 2").await?;
    let report = ctx.store.verify_audit_chain().await?;
    assert_eq!(report.first_broken, Some(2), "{report:?}");
    assert!(report.problem.unwrap_or_default().contains("missing"));
    Ok(())
}

pub async fn audit_verify_detects_swapped_events(ctx: Ctx) -> TestResult {
    five_changes(&ctx).await?;
    raw(
        &ctx,
        "UPDATE audit_events SET seq = -2 WHERE seq = 2; \
         UPDATE audit_events SET seq = 2 WHERE seq = 3; \
         UPDATE audit_events SET seq = 3 WHERE seq = -2;",
    )
    .await?;
    assert_eq!(broken_at(&ctx).await?, Some(2));
    Ok(())
}

pub async fn audit_verify_detects_a_truncated_tail(ctx: Ctx) -> TestResult {
    five_changes(&ctx).await?;
    raw(&ctx, "DELETE FROM audit_events WHERE seq > 3").await?;
    let report = ctx.store.verify_audit_chain().await?;
    assert_eq!(
        (report.first_broken, report.head_seq),
        (Some(4), 5),
        "{report:?}"
    );
    assert!(report.problem.unwrap_or_default().contains("tail"));
    // Removing every event is detected too.
    raw(&ctx, "DELETE FROM audit_events").await?;
    assert_eq!(broken_at(&ctx).await?, Some(1));
    Ok(())
}

pub async fn audit_failure_rolls_the_change_back(ctx: Ctx) -> TestResult {
    let a = actor("alice");
    ctx.store.create_project("p", "", &a).await?;
    let exp = ctx.store.create_experiment("p", "e", "", &a).await?.id;
    let run = ctx
        .store
        .create_run("p", exp, verity_store::NewRun::default(), &a)
        .await?;
    let install = match ctx.kind {
        Kind::Sqlite => "CREATE TRIGGER audit_fail BEFORE INSERT ON audit_events \
                         BEGIN SELECT RAISE(ABORT, 'audit store unavailable'); END;"
            .to_string(),
        Kind::Postgres => "CREATE FUNCTION audit_fail() RETURNS trigger AS $$ BEGIN \
                           RAISE EXCEPTION 'audit store unavailable'; END $$ LANGUAGE plpgsql; \
                           CREATE TRIGGER audit_fail BEFORE INSERT ON audit_events \
                           FOR EACH ROW EXECUTE FUNCTION audit_fail();"
            .to_string(),
    };
    raw(&ctx, &install).await?;
    assert!(ctx.store.create_project("q", "", &a).await.is_err());
    assert_eq!(
        ctx.store
            .get_project("q")
            .await
            .map(|_| ())
            .map_err(|e| e.kind()),
        Err(ErrorKind::NotFound)
    );
    let batch = verity_store::model::LogBatch {
        params: vec![verity_store::model::KeyValue {
            key: "lr".into(),
            value: "0.1".into(),
        }],
        tags: vec![],
        metrics: vec![crate::point("loss", 0.5, 0)],
    };
    assert!(
        ctx.store
            .log_batch(&run.run.uuid, &batch, &a)
            .await
            .is_err()
    );
    let detail = ctx.store.get_run_detail(&run.run.uuid).await?;
    assert!(
        detail.params.is_empty() && detail.metrics.is_empty(),
        "{detail:?}"
    );
    assert!(
        ctx.store
            .set_run_deleted(&run.run.uuid, true, &a)
            .await
            .is_err()
    );
    assert_eq!(ctx.store.get_run(&run.run.uuid).await?.deleted_at, None);
    assert!(
        ctx.store
            .create_user("u", "hash", "internal", &a)
            .await
            .is_err()
    );
    assert_eq!(ctx.store.count_users().await?, 0);
    raw(&ctx, "DROP TRIGGER audit_fail ON audit_events")
        .await
        .or(raw(&ctx, "DROP TRIGGER audit_fail").await)?;
    ctx.store.log_batch(&run.run.uuid, &batch, &a).await?;
    let report = ctx.store.verify_audit_chain().await?;
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.head_seq, 4);
    Ok(())
}

pub async fn audit_filters_and_pages(ctx: Ctx) -> TestResult {
    five_changes(&ctx).await?;
    ctx.store.create_project("other", "", &actor("bob")).await?;
    let denied = NewEvent {
        action: "run.delete".into(),
        resource: "run/x".into(),
        project: Some("other".into()),
        outcome: Outcome::Denied,
        details: serde_json::json!({"reason": "no role"}),
    };
    ctx.store.record_event(&actor("bob"), denied).await?;
    let list = |filter: AuditFilter, limit: u32| {
        let store = ctx.store.clone();
        async move {
            store
                .list_audit_events(&filter, &PageRequest { limit, after: None })
                .await
        }
    };
    let other = list(
        AuditFilter {
            project: Some("other".into()),
            ..Default::default()
        },
        100,
    )
    .await?;
    assert_eq!(other.items.len(), 2);
    let denied = list(
        AuditFilter {
            outcome: Some("denied".into()),
            actor: Some("bob".into()),
            ..Default::default()
        },
        100,
    )
    .await?;
    assert_eq!(denied.items.len(), 1);
    assert_eq!(denied.items[0].seq, 7);
    let none = list(
        AuditFilter {
            since: Some(now_ms() + 60_000),
            ..Default::default()
        },
        100,
    )
    .await?;
    assert!(none.items.is_empty());
    // Pages of two walk the whole trail in order.
    let mut seqs = Vec::new();
    let mut page = PageRequest {
        limit: 2,
        after: None,
    };
    loop {
        let got = ctx
            .store
            .list_audit_events(&AuditFilter::default(), &page)
            .await?;
        seqs.extend(got.items.iter().map(|e| e.seq));
        match got.next_cursor {
            Some(c) => page = PageRequest::new(Some(2), Some(&c))?,
            None => break,
        }
    }
    assert_eq!(seqs, (1..=7).collect::<Vec<_>>());
    assert!(ctx.store.verify_audit_chain().await?.is_intact());
    Ok(())
}

pub async fn identity_users_tokens_sessions(ctx: Ctx) -> TestResult {
    let admin = actor("admin");
    assert_eq!(ctx.store.count_users().await?, 0);
    let user = ctx
        .store
        .create_user("carol", "$argon2id$fake", "internal", &admin)
        .await?;
    assert_eq!(
        (user.name.as_str(), user.clearance.as_str()),
        ("carol", "internal")
    );
    let dup = ctx.store.create_user("carol", "x", "public", &admin).await;
    assert_eq!(
        dup.map(|_| ()).map_err(|e| e.kind()),
        Err(ErrorKind::AlreadyExists)
    );
    let bad = ctx
        .store
        .create_user("bad name!", "x", "public", &admin)
        .await;
    assert_eq!(
        bad.map(|_| ()).map_err(|e| e.kind()),
        Err(ErrorKind::InvalidArgument)
    );
    let (found, hash) = ctx.store.user_credentials("carol").await?.expect("user");
    assert_eq!((found.id, hash.as_str()), (user.id, "$argon2id$fake"));
    assert!(ctx.store.user_credentials("nobody").await?.is_none());

    let token = ctx
        .store
        .create_token(
            "carol",
            NewToken {
                name: "ci".into(),
                display_prefix: "vty_abcdefgh".into(),
                digest: "d1".into(),
                project: Some("p".into()),
                read_only: true,
                expires_at: Some(now_ms() + 60_000),
                parent_id: None,
            },
            &admin,
        )
        .await?;
    assert!(token.read_only);
    assert_eq!(token.project.as_deref(), Some("p"));
    let (by_digest, owner) = ctx.store.token_by_digest("d1").await?.expect("token");
    assert_eq!((by_digest.id, owner.name.as_str()), (token.id, "carol"));
    assert!(ctx.store.token_by_digest("other").await?.is_none());
    assert_eq!(
        ctx.store
            .list_tokens(Some("carol"), &PageRequest::default())
            .await?
            .items
            .len(),
        1
    );
    assert!(
        ctx.store
            .list_tokens(Some("dave"), &PageRequest::default())
            .await?
            .items
            .is_empty()
    );
    let child = ctx
        .store
        .create_token(
            "carol",
            NewToken {
                name: "child".into(),
                display_prefix: "vty_child000".into(),
                digest: "d2".into(),
                project: None,
                read_only: false,
                expires_at: None,
                parent_id: Some(token.id),
            },
            &admin,
        )
        .await?;
    let revoked = ctx.store.revoke_token(token.id, &admin).await?;
    assert!(revoked.revoked_at.is_some());
    assert!(
        ctx.store.get_token(child.id).await?.revoked_at.is_some(),
        "revoking a token revokes the tokens it created"
    );
    let again = ctx.store.revoke_token(token.id, &admin).await;
    assert_eq!(
        again.map(|_| ()).map_err(|e| e.kind()),
        Err(ErrorKind::Conflict)
    );
    let missing = ctx.store.revoke_token(9999, &admin).await;
    assert_eq!(
        missing.map(|_| ()).map_err(|e| e.kind()),
        Err(ErrorKind::NotFound)
    );

    let later = now_ms() + 60_000;
    ctx.store
        .create_session("carol", "s1", "csrf1", later, &actor("carol"))
        .await?;
    let session = ctx.store.session_by_digest("s1").await?.expect("session");
    assert_eq!(
        (session.user.name.as_str(), session.csrf_token.as_str()),
        ("carol", "csrf1")
    );
    ctx.store
        .create_session("carol", "s-old", "csrf2", now_ms() - 1, &actor("carol"))
        .await?;
    assert!(
        ctx.store.session_by_digest("s-old").await?.is_none(),
        "expired"
    );
    // A new password ends every session; disabling is recorded.
    let updated = ctx
        .store
        .update_user(
            "carol",
            UserUpdate {
                clearance: Some("confidential".into()),
                disabled: Some(true),
                password_hash: Some("$argon2id$new".into()),
            },
            &admin,
        )
        .await?;
    assert_eq!(updated.clearance, "confidential");
    assert!(updated.disabled_at.is_some());
    assert!(ctx.store.session_by_digest("s1").await?.is_none());
    ctx.store
        .create_session("carol", "s2", "csrf3", later, &actor("carol"))
        .await?;
    ctx.store.delete_session("s2", &actor("carol")).await?;
    assert!(ctx.store.session_by_digest("s2").await?.is_none());

    let actions: Vec<String> = ctx
        .store
        .list_audit_events(&AuditFilter::default(), &PageRequest::default())
        .await?
        .items
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "user.create",
            "token.create",
            "token.create",
            "token.revoke",
            "auth.login",
            "auth.login",
            "user.update",
            "auth.login",
            "auth.logout"
        ]
    );
    // No secret or hash reaches the trail.
    let all = ctx
        .store
        .list_audit_events(&AuditFilter::default(), &PageRequest::default())
        .await?;
    for event in all.items {
        assert!(!event.details.contains("argon2"), "{}", event.details);
        assert!(!event.details.contains("csrf"), "{}", event.details);
        assert!(!event.details.contains("\"d1\""), "{}", event.details);
    }
    Ok(())
}

pub async fn policies_seed_once_members_and_revision(ctx: Ctx) -> TestResult {
    let admin = actor("admin");
    let rules = vec![
        (
            "p".to_string(),
            "viewer".to_string(),
            "run.read".to_string(),
            String::new(),
        ),
        (
            "p".to_string(),
            "owner".to_string(),
            "*".to_string(),
            String::new(),
        ),
    ];
    assert_eq!(ctx.store.policy_revision().await?, 0);
    assert!(ctx.store.seed_policy_rules(&rules, &admin).await?);
    assert!(!ctx.store.seed_policy_rules(&rules, &admin).await?);
    assert_eq!(ctx.store.policy_rules().await?.len(), 2);
    let revision = ctx.store.policy_revision().await?;

    ctx.store.create_project("p", "", &admin).await?;
    ctx.store
        .create_user("dave", "h", "internal", &admin)
        .await?;
    let unknown_user = ctx
        .store
        .set_project_role("p", "nobody", Some("viewer"), &admin)
        .await;
    assert_eq!(unknown_user.map_err(|e| e.kind()), Err(ErrorKind::NotFound));
    let unknown_project = ctx
        .store
        .set_project_role("q", "dave", Some("viewer"), &admin)
        .await;
    assert_eq!(
        unknown_project.map_err(|e| e.kind()),
        Err(ErrorKind::NotFound)
    );
    ctx.store
        .set_project_role("p", "dave", Some("viewer"), &admin)
        .await?;
    ctx.store
        .set_project_role("p", "dave", Some("maintainer"), &admin)
        .await?;
    assert_eq!(
        ctx.store.project_members("p").await?,
        vec![("dave".to_string(), "maintainer".to_string())]
    );
    assert!(ctx.store.policy_revision().await? > revision);
    ctx.store
        .set_project_role("p", "dave", None, &admin)
        .await?;
    assert!(ctx.store.project_members("p").await?.is_empty());
    let not_member = ctx.store.set_project_role("p", "dave", None, &admin).await;
    assert_eq!(not_member.map_err(|e| e.kind()), Err(ErrorKind::NotFound));

    let added = ctx
        .store
        .add_policy_rule(("p", "viewer", "audit.read", ""), &admin)
        .await?;
    let dup = ctx
        .store
        .add_policy_rule(("p", "viewer", "audit.read", ""), &admin)
        .await;
    assert_eq!(
        dup.map(|_| ()).map_err(|e| e.kind()),
        Err(ErrorKind::AlreadyExists)
    );
    ctx.store.remove_policy_rule(added.id, &admin).await?;
    let gone = ctx.store.remove_policy_rule(added.id, &admin).await;
    assert_eq!(
        gone.map(|_| ()).map_err(|e| e.kind()),
        Err(ErrorKind::NotFound)
    );
    let members_events = ctx
        .store
        .list_audit_events(
            &AuditFilter {
                action: Some("project.manage_members".into()),
                project: Some("p".into()),
                ..Default::default()
            },
            &PageRequest::default(),
        )
        .await?;
    assert_eq!(members_events.items.len(), 3);
    assert!(ctx.store.verify_audit_chain().await?.is_intact());
    Ok(())
}

pub async fn datasets_sensitivity_set_and_validated(ctx: Ctx) -> TestResult {
    let a = actor("alice");
    ctx.store.create_project("p", "", &a).await?;
    let bad = ctx.store.create_dataset("p", "d", "", "secret", &a).await;
    assert_eq!(
        bad.map(|_| ()).map_err(|e| e.kind()),
        Err(ErrorKind::InvalidArgument)
    );
    let created = ctx
        .store
        .create_dataset("p", "d", "", "confidential", &a)
        .await?;
    assert_eq!(created.sensitivity, "confidential");
    let updated = ctx
        .store
        .update_dataset("p", "d", None, Some("restricted"), &a)
        .await?;
    assert_eq!(updated.sensitivity, "restricted");
    let bad = ctx.store.update_dataset("p", "d", None, Some(""), &a).await;
    assert_eq!(
        bad.map(|_| ()).map_err(|e| e.kind()),
        Err(ErrorKind::InvalidArgument)
    );
    let missing = ctx
        .store
        .update_dataset("p", "x", Some("d"), None, &a)
        .await;
    assert_eq!(
        missing.map(|_| ()).map_err(|e| e.kind()),
        Err(ErrorKind::NotFound)
    );
    let events = ctx
        .store
        .list_audit_events(
            &AuditFilter {
                action: Some("dataset.update".into()),
                ..Default::default()
            },
            &PageRequest::default(),
        )
        .await?;
    assert_eq!(events.items.len(), 1);
    assert!(
        events.items[0]
            .details
            .contains("\"previous_sensitivity\":\"confidential\"")
    );
    Ok(())
}
