//! Contract cases for privacy budgets and their ledger (both backends).

use std::sync::Arc;

use serde_json::json;
use verity_store::privacy::{BudgetScope, NewCharge, PrivacyLoss};
use verity_store::{Actor, ErrorKind, PageRequest};

use crate::{CSV, Ctx, TestResult, upload};

/// A project `p` with dataset `d` and one version; returns the version's id.
async fn dataset_with_version(ctx: &Ctx) -> Result<i64, Box<dyn std::error::Error>> {
    let owner: Actor = "olivia".into();
    ctx.store.create_project("p", "", &owner).await?;
    ctx.store
        .create_dataset("p", "d", "", "confidential", &owner)
        .await?;
    Ok(upload(ctx, "p", "d", CSV).await?.version.id)
}

fn loss(epsilon: f64, delta: f64) -> PrivacyLoss {
    PrivacyLoss { epsilon, delta }
}

fn charge(version: i64, epsilon: f64, delta: f64) -> NewCharge {
    NewCharge {
        dataset_version_id: version,
        query: json!({"kind": "count"}),
        mechanism: "discrete_laplace".into(),
        loss: loss(epsilon, delta),
    }
}

pub async fn privacy_budgets_charges_and_refusals(ctx: Ctx) -> TestResult {
    let version = dataset_with_version(&ctx).await?;
    let (owner, alice, bob, carol): (Actor, Actor, Actor, Actor) = (
        "olivia".into(),
        "alice".into(),
        "bob".into(),
        "carol".into(),
    );
    let store = &ctx.store;

    // Without a budget nothing can be released.
    let none = store
        .charge_privacy("p", "d", charge(version, 0.1, 0.0), &alice)
        .await
        .unwrap_err();
    assert_eq!(none.code(), "privacy_budget_exceeded", "{none}");

    store
        .set_privacy_budget("p", "d", BudgetScope::Total, loss(1.0, 0.0), &owner)
        .await?;
    let (first, left) = store
        .charge_privacy("p", "d", charge(version, 0.4, 0.0), &alice)
        .await?;
    assert_eq!(first.principal, "alice");
    assert!((left.epsilon - 0.6).abs() < 1e-9, "{left:?}");

    // A budget below what was spent is refused and changes nothing.
    let below = store
        .set_privacy_budget("p", "d", BudgetScope::Total, loss(0.3, 0.0), &owner)
        .await
        .unwrap_err();
    assert_eq!(below.kind(), ErrorKind::InvalidArgument, "{below}");
    // Bad limits.
    for bad in [
        loss(-1.0, 0.0),
        loss(f64::NAN, 0.0),
        loss(1e9, 0.0),
        loss(1.0, 1.0),
    ] {
        let refused = store
            .set_privacy_budget("p", "d", BudgetScope::Total, bad, &owner)
            .await
            .unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::InvalidArgument, "{bad:?}");
    }

    // Each user on their own: alice has spent 0.4 of 0.5.
    store
        .set_privacy_budget("p", "d", BudgetScope::EachUser, loss(0.5, 0.0), &owner)
        .await?;
    let over = store
        .charge_privacy("p", "d", charge(version, 0.2, 0.0), &alice)
        .await
        .unwrap_err();
    assert_eq!(over.code(), "privacy_budget_exceeded");
    assert!(over.to_string().contains("nothing was released"), "{over}");

    // A user budget overrides each_user for that user; the total still applies.
    store
        .set_privacy_budget(
            "p",
            "d",
            BudgetScope::User("bob".into()),
            loss(0.3, 0.0),
            &owner,
        )
        .await?;
    store
        .charge_privacy("p", "d", charge(version, 0.3, 0.0), &bob)
        .await?;
    let total = store
        .charge_privacy("p", "d", charge(version, 0.31, 0.0), &carol)
        .await
        .unwrap_err();
    assert!(total.to_string().contains("total"), "{total}");
    // δ needs a δ budget.
    let delta = store
        .charge_privacy("p", "d", charge(version, 0.01, 1e-6), &carol)
        .await
        .unwrap_err();
    assert_eq!(delta.code(), "privacy_budget_exceeded");
    // Malformed charges.
    for bad in [
        charge(version, 0.0, 0.0),
        charge(version, f64::NAN, 0.0),
        charge(version, 0.1, 1.0),
    ] {
        let refused = store
            .charge_privacy("p", "d", bad, &carol)
            .await
            .unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::InvalidArgument);
    }

    // The ledger holds exactly the two charges made, newest first.
    let ledger = store
        .privacy_ledger("p", "d", &PageRequest::new(Some(10), None)?)
        .await?;
    let who: Vec<_> = ledger.items.iter().map(|c| c.principal.as_str()).collect();
    assert_eq!(who, ["bob", "alice"]);
    assert_eq!(ledger.items[1].query, json!({"kind": "count"}));
    assert_eq!(ledger.items[1].mechanism, "discrete_laplace");

    // Budgets with what was spent against each.
    let budgets = store.privacy_budgets("p", "d").await?;
    let spent = |scope: &BudgetScope| {
        budgets
            .iter()
            .find(|b| &b.scope == scope)
            .map(|b| b.spent.epsilon)
            .unwrap_or(f64::NAN)
    };
    assert!((spent(&BudgetScope::Total) - 0.7).abs() < 1e-9);
    assert!((spent(&BudgetScope::EachUser) - 0.4).abs() < 1e-9);
    assert!((spent(&BudgetScope::User("bob".into())) - 0.3).abs() < 1e-9);

    // Charges and budget changes are audited.
    let events = store
        .list_audit_events(
            &verity_store::AuditFilter::default(),
            &PageRequest::new(Some(1000), None)?,
        )
        .await?;
    let count = |action: &str| events.items.iter().filter(|e| e.action == action).count();
    assert_eq!(count("privacy.charge"), 2);
    assert_eq!(count("privacy.budget"), 3);

    // Unknown datasets.
    let missing = store.privacy_budgets("p", "nope").await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    Ok(())
}

pub async fn privacy_concurrent_charges_never_overspend(ctx: Ctx) -> TestResult {
    let version = dataset_with_version(&ctx).await?;
    ctx.store
        .set_privacy_budget(
            "p",
            "d",
            BudgetScope::Total,
            loss(1.0, 0.0),
            &"olivia".into(),
        )
        .await?;
    let store = Arc::new(ctx.store.clone());
    let mut tasks = Vec::new();
    for i in 0..100 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let actor: Actor = format!("user{}", i % 7).as_str().into();
            store
                .charge_privacy("p", "d", charge(version, 0.03, 0.0), &actor)
                .await
        }));
    }
    let mut granted = 0;
    for task in tasks {
        match task.await? {
            Ok(_) => granted += 1,
            Err(err) => assert_eq!(err.code(), "privacy_budget_exceeded", "{err}"),
        }
    }
    // 33 charges of 0.03 fit in 1.0; the 34th would pass it.
    assert_eq!(granted, 33);
    let budgets = ctx.store.privacy_budgets("p", "d").await?;
    assert!(budgets[0].spent.epsilon <= 1.0, "{budgets:?}");
    let ledger = ctx
        .store
        .privacy_ledger("p", "d", &PageRequest::new(Some(1000), None)?)
        .await?;
    assert_eq!(ledger.items.len(), 33);
    Ok(())
}

pub async fn masking_set_inherit_and_keys(ctx: Ctx) -> TestResult {
    use verity_store::masking::{ColumnMasks, MaskMode};
    let owner: Actor = "olivia".into();
    let store = &ctx.store;
    store.create_project("p", "", &owner).await?;
    store
        .create_dataset("p", "d", "", "confidential", &owner)
        .await?;

    // Nothing masked at first; a dataset without a version cannot name columns.
    assert!(store.dataset_masking("p", "d").await?.columns.is_empty());
    let masks: ColumnMasks = [
        ("name".to_owned(), MaskMode::Masked),
        ("score".to_owned(), MaskMode::Hidden),
    ]
    .into();
    let early = store
        .set_dataset_masking("p", "d", &masks, &owner)
        .await
        .unwrap_err();
    assert_eq!(early.kind(), ErrorKind::InvalidArgument, "{early}");
    upload(&ctx, "p", "d", CSV).await?;

    let set = store.set_dataset_masking("p", "d", &masks, &owner).await?;
    assert_eq!(set.columns, masks);
    assert_eq!(set.updated_by.as_deref(), Some("olivia"));
    assert_eq!(store.dataset_masking("p", "d").await?.columns, masks);

    // An unknown column is refused and changes nothing.
    let mut bad = masks.clone();
    bad.insert("nope".into(), MaskMode::Masked);
    let refused = store
        .set_dataset_masking("p", "d", &bad, &owner)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::InvalidArgument);
    assert!(refused.to_string().contains("nope"), "{refused}");
    assert_eq!(store.dataset_masking("p", "d").await?.columns, masks);

    // A derived dataset inherits the masks of the columns it copies, keeping its own.
    store
        .create_dataset("p", "preds", "", "confidential", &owner)
        .await?;
    let inherited = store
        .inherit_masking(
            "p",
            "d",
            "preds",
            &[("name", "name"), ("id", "id"), ("score", "label")],
            &owner,
        )
        .await?;
    assert_eq!(
        inherited.columns,
        ColumnMasks::from([
            ("name".to_owned(), MaskMode::Masked),
            ("label".to_owned(), MaskMode::Hidden),
        ])
    );

    // A column only older versions have can be masked too; inherited modes are raised, never
    // lowered.
    upload(&ctx, "p", "d", "id,fullname\n1,x\n").await?;
    let older: ColumnMasks = [
        ("name".to_owned(), MaskMode::Hidden),
        ("fullname".to_owned(), MaskMode::Masked),
    ]
    .into();
    store.set_dataset_masking("p", "d", &older, &owner).await?;
    let raised = store
        .inherit_masking("p", "d", "preds", &[("name", "name")], &owner)
        .await?;
    assert_eq!(raised.columns.get("name"), Some(&MaskMode::Hidden));
    assert_eq!(raised.columns.get("label"), Some(&MaskMode::Hidden));
    let unchanged = store
        .inherit_masking("p", "d", "preds", &[("fullname", "name")], &owner)
        .await?;
    assert_eq!(unchanged.columns.get("name"), Some(&MaskMode::Hidden));

    // Clearing.
    let cleared = store
        .set_dataset_masking("p", "d", &ColumnMasks::new(), &owner)
        .await?;
    assert!(cleared.columns.is_empty());

    // The key is stable per project and differs between projects.
    let key = store.mask_key("p").await?;
    assert_eq!(store.mask_key("p").await?, key);
    store.create_project("q", "", &owner).await?;
    assert_ne!(store.mask_key("q").await?, key);
    assert_eq!(
        store.mask_key("nope").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );

    let events = store
        .list_audit_events(
            &verity_store::AuditFilter::default(),
            &PageRequest::new(Some(1000), None)?,
        )
        .await?;
    let changes = events
        .items
        .iter()
        .filter(|e| e.action == "dataset.masking")
        .count();
    assert_eq!(changes, 5, "set, inherited, set again, raised, cleared");
    Ok(())
}
