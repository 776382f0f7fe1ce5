//! Contract cases for monitoring (both backends): check reports, monitors, the job queue,
//! alerts, webhooks and their deliveries.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;
use verity_store::model::{Direction, NodeKind};
use verity_store::{
    Actor, Alert, AlertChange, AuditFilter, ErrorKind, Job, ModelLinks, ModelSource, MonitorUpdate,
    NewModelVersion, NewMonitor, NewReport, PageRequest, ReportFilter, Store, WORKER_STOPPED,
    now_ms,
};

use crate::{CSV, Ctx, Kind, TestResult, expect_err, page, stage, upload};

fn actor(name: &str) -> Actor {
    Actor {
        principal: name.to_string(),
        request_id: None,
        client_addr: None,
    }
}

/// A project `p` with dataset `d` (one version) and dataset `ref` (one version); returns the
/// two version ids.
async fn setup(ctx: &Ctx) -> Result<(i64, i64), Box<dyn std::error::Error>> {
    let a = actor("alice");
    ctx.store.create_project("p", "", &a).await?;
    ctx.store
        .create_dataset("p", "d", "", "internal", &a)
        .await?;
    ctx.store
        .create_dataset("p", "ref", "", "internal", &a)
        .await?;
    let v = upload(ctx, "p", "d", CSV).await?.version;
    let r = upload(ctx, "p", "ref", "id,name,score\n9,zeta,9\n")
        .await?
        .version;
    Ok((v.id, r.id))
}

fn report(version: i64, kind: &str, status: &str) -> NewReport {
    NewReport {
        project: "p".into(),
        kind: kind.into(),
        status: status.into(),
        summary: format!("{kind} {status}"),
        config: json!({"threshold": 0.1}),
        result: json!({"share": 0.5, "columns": ["a", "b"]}),
        dataset_version_id: version,
        reference_version_id: None,
        monitor_id: None,
        job_id: None,
        trigger: "manual".into(),
        duration_ms: 12,
        models: Default::default(),
    }
}

fn monitor(name: &str, on_new_version: bool, interval: Option<i64>, enabled: bool) -> NewMonitor {
    NewMonitor {
        project: "p".into(),
        name: name.into(),
        dataset: "d".into(),
        reference_version_id: None,
        checks: json!([{"kind": "drift"}]),
        on_new_version,
        interval_seconds: interval,
        enabled,
    }
}

fn payload(event: &str, alert: &Alert) -> String {
    format!("{event}:{}:{}", alert.id, alert.state)
}

async fn actions(store: &Store) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let events = store
        .list_audit_events(
            &AuditFilter::default(),
            &PageRequest::new(Some(1000), None)?,
        )
        .await?;
    Ok(events.items.into_iter().map(|e| e.action).collect())
}

async fn queued(store: &Store) -> Result<Vec<Job>, Box<dyn std::error::Error>> {
    let mut jobs = store.list_jobs("p", None, &page(1000, None)).await?.items;
    jobs.retain(|j| j.state == "queued");
    jobs.reverse();
    Ok(jobs)
}

pub async fn monitoring_reports_add_get_list_filter_page(ctx: Ctx) -> TestResult {
    let (v, r) = setup(&ctx).await?;
    let a = actor("worker");
    let mut drift = report(v, "drift", "fail");
    drift.reference_version_id = Some(r);
    let first = ctx.store.add_report(&drift, &a).await?;
    assert_eq!(
        (first.dataset.as_str(), first.version, first.kind.as_str()),
        ("d", 1, "drift")
    );
    assert_eq!(first.result, json!({"share": 0.5, "columns": ["a", "b"]}));
    assert_eq!(first.config, json!({"threshold": 0.1}));
    assert_eq!(first.reference_version_id, Some(r));
    assert_eq!((first.monitor.as_deref(), first.monitor_id), (None, None));
    assert_eq!(first.created_by, "worker");
    assert_eq!(ctx.store.report("p", first.id).await?, first);
    ctx.store
        .add_report(&report(v, "profile", "pass"), &a)
        .await?;
    ctx.store
        .add_report(&report(r, "quality", "warn"), &a)
        .await?;
    ctx.store
        .add_report(&report(v, "fairness", "pass"), &a)
        .await?;

    // Newest first, in pages of two.
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let got = ctx
            .store
            .list_reports("p", &ReportFilter::default(), &page(2, cursor.as_deref()))
            .await?;
        ids.extend(got.items.iter().map(|r| r.id));
        match got.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let mut expected = ids.clone();
    expected.sort_by(|x, y| y.cmp(x));
    assert_eq!(ids, expected);
    assert_eq!(ids.len(), 4);

    let list = |filter: ReportFilter| {
        let store = ctx.store.clone();
        async move {
            store
                .list_reports("p", &filter, &PageRequest::default())
                .await
                .map(|p| p.items)
        }
    };
    let passing = list(ReportFilter {
        status: Some("pass".into()),
        ..Default::default()
    })
    .await?;
    assert_eq!(passing.len(), 2);
    let on_d_pass = list(ReportFilter {
        status: Some("pass".into()),
        dataset: Some("d".into()),
        kind: Some("profile".into()),
        ..Default::default()
    })
    .await?;
    assert_eq!(on_d_pass.len(), 1);
    assert_eq!(on_d_pass[0].kind, "profile");
    let on_ref = list(ReportFilter {
        dataset: Some("ref".into()),
        ..Default::default()
    })
    .await?;
    assert_eq!(on_ref.len(), 1);
    let by_monitor = list(ReportFilter {
        monitor: Some("nope".into()),
        ..Default::default()
    })
    .await?;
    assert!(by_monitor.is_empty());
    expect_err(
        ctx.store
            .list_reports("nope", &ReportFilter::default(), &PageRequest::default())
            .await,
        ErrorKind::NotFound,
        "unknown project",
    );
    Ok(())
}

pub async fn monitoring_reports_lineage_and_validation(ctx: Ctx) -> TestResult {
    let (v, r) = setup(&ctx).await?;
    let a = actor("worker");
    let mut drift = report(v, "drift", "warn");
    drift.reference_version_id = Some(r);
    let created = ctx.store.add_report(&drift, &a).await?;
    let id = created.id.to_string();

    let down = ctx
        .store
        .lineage(
            NodeKind::DatasetVersion,
            &v.to_string(),
            Direction::Downstream,
            1,
        )
        .await?;
    let node = down
        .nodes
        .iter()
        .find(|n| n.kind == NodeKind::Report)
        .expect("the report is downstream of its version");
    assert_eq!(node.id, id);
    assert_eq!(node.label, format!("drift report #{id}"));
    assert_eq!(node.project, "p");
    assert_eq!(down.edges.len(), 1);
    assert_eq!(down.edges[0].relation, "checked");

    let up = ctx
        .store
        .lineage(NodeKind::Report, &id, Direction::Upstream, 1)
        .await?;
    let mut relations: Vec<(String, String)> = up
        .edges
        .iter()
        .map(|e| (e.from_id.clone(), e.relation.clone()))
        .collect();
    relations.sort();
    let mut expected = vec![
        (v.to_string(), "checked".to_string()),
        (r.to_string(), "reference".to_string()),
    ];
    expected.sort();
    assert_eq!(relations, expected);
    expect_err(
        ctx.store
            .lineage(NodeKind::Report, "999999", Direction::Upstream, 1)
            .await,
        ErrorKind::NotFound,
        "unknown report node",
    );

    // Another project cannot read it, nor record one on this project's versions.
    ctx.store.create_project("q", "", &a).await?;
    expect_err(
        ctx.store.report("q", created.id).await,
        ErrorKind::NotFound,
        "report in another project",
    );
    expect_err(
        ctx.store.report("p", created.id + 1000).await,
        ErrorKind::NotFound,
        "unknown report",
    );
    let mut foreign = report(v, "drift", "pass");
    foreign.project = "q".into();
    expect_err(
        ctx.store.add_report(&foreign, &a).await,
        ErrorKind::NotFound,
        "version of another project",
    );
    expect_err(
        ctx.store
            .add_report(&report(v + 1000, "drift", "pass"), &a)
            .await,
        ErrorKind::NotFound,
        "unknown version",
    );
    for (kind, status, trigger) in [
        ("bias", "pass", "manual"),
        ("drift", "ok", "manual"),
        ("drift", "pass", "cron"),
    ] {
        let mut bad = report(v, kind, status);
        bad.trigger = trigger.into();
        expect_err(
            ctx.store.add_report(&bad, &a).await,
            ErrorKind::InvalidArgument,
            "bad kind, status or trigger",
        );
    }
    let mut bad_monitor = report(v, "drift", "pass");
    bad_monitor.monitor_id = Some(12345);
    expect_err(
        ctx.store.add_report(&bad_monitor, &a).await,
        ErrorKind::NotFound,
        "unknown monitor",
    );
    let all = ctx
        .store
        .list_reports("p", &ReportFilter::default(), &PageRequest::default())
        .await?;
    assert_eq!(all.items.len(), 1, "refused reports store nothing");
    Ok(())
}

/// Registers model `name` in `project` with one uploaded version; returns the version's id.
async fn model_version(
    ctx: &Ctx,
    project: &str,
    name: &str,
) -> Result<i64, Box<dyn std::error::Error>> {
    let a = actor("alice");
    if ctx.store.get_model(project, name).await.is_err() {
        ctx.store.create_model(project, name, "", &a).await?;
    }
    let staged = stage(ctx, format!("weights of {project}/{name}")).await?;
    let new = NewModelVersion {
        source: ModelSource::Upload {
            staged,
            file_name: "model.bin".into(),
            run_id: None,
        },
        description: String::new(),
        tags: vec![],
    };
    Ok(ctx
        .store
        .create_model_version(project, name, new, &a)
        .await?
        .id)
}

pub async fn monitoring_evaluation_reports_link_models(ctx: Ctx) -> TestResult {
    let (v, predictions) = setup(&ctx).await?;
    let a = actor("cli");
    let champion = model_version(&ctx, "p", "m").await?;
    let challenger = model_version(&ctx, "p", "m").await?;
    let mut evaluation = report(v, "evaluation", "pass");
    evaluation.models = ModelLinks {
        model_version_id: Some(champion),
        reference_model_version_id: None,
        output_version_id: Some(predictions),
    };
    let stored = ctx.store.add_report(&evaluation, &a).await?;
    assert_eq!(stored.model.as_deref(), Some("m"));
    assert_eq!(stored.model_version, Some(1));
    assert_eq!(stored.models, evaluation.models);
    assert_eq!(
        ctx.store.report("p", stored.id).await?.models,
        evaluation.models
    );

    let mut comparison = report(v, "comparison", "warn");
    comparison.models = ModelLinks {
        model_version_id: Some(challenger),
        reference_model_version_id: Some(champion),
        output_version_id: None,
    };
    let compared = ctx.store.add_report(&comparison, &a).await?;
    assert_eq!(compared.model_version, Some(2));

    // Lineage: model → evaluation → predictions; both models → comparison.
    let relations = |graph: verity_store::model::LineageGraph| {
        let mut r: Vec<(String, String, String)> = graph
            .edges
            .into_iter()
            .map(|e| (e.from_id, e.relation, e.to_id))
            .collect();
        r.sort();
        r
    };
    let up = relations(
        ctx.store
            .lineage(
                NodeKind::Report,
                &stored.id.to_string(),
                Direction::Upstream,
                1,
            )
            .await?,
    );
    assert!(
        up.contains(&(
            champion.to_string(),
            "evaluated".into(),
            stored.id.to_string()
        )),
        "{up:?}"
    );
    let down = relations(
        ctx.store
            .lineage(
                NodeKind::Report,
                &stored.id.to_string(),
                Direction::Downstream,
                1,
            )
            .await?,
    );
    assert_eq!(
        down,
        vec![(
            stored.id.to_string(),
            "predicted".into(),
            predictions.to_string()
        )]
    );
    let up = relations(
        ctx.store
            .lineage(
                NodeKind::Report,
                &compared.id.to_string(),
                Direction::Upstream,
                1,
            )
            .await?,
    );
    assert!(
        up.contains(&(
            challenger.to_string(),
            "evaluated".into(),
            compared.id.to_string()
        )),
        "{up:?}"
    );
    assert!(
        up.contains(&(
            champion.to_string(),
            "reference_model".into(),
            compared.id.to_string()
        )),
        "{up:?}"
    );

    // The model filter.
    let by_model = |model: &str| {
        let store = ctx.store.clone();
        let filter = ReportFilter {
            model: Some(model.into()),
            ..Default::default()
        };
        async move {
            store
                .list_reports("p", &filter, &PageRequest::default())
                .await
        }
    };
    assert_eq!(by_model("m").await?.items.len(), 2);
    assert!(by_model("nope").await?.items.is_empty());
    // By model version and dataset version (ids).
    let by_ids = |model_version: Option<i64>, dataset_version: Option<i64>| {
        let store = ctx.store.clone();
        let filter = ReportFilter {
            model_version_id: model_version,
            dataset_version_id: dataset_version,
            ..Default::default()
        };
        async move {
            store
                .list_reports("p", &filter, &PageRequest::default())
                .await
                .map(|p| p.items.iter().map(|r| r.id).collect::<Vec<_>>())
        }
    };
    assert_eq!(by_ids(Some(champion), Some(v)).await?, vec![stored.id]);
    assert_eq!(by_ids(Some(challenger), None).await?, vec![compared.id]);
    assert!(by_ids(Some(champion), Some(predictions)).await?.is_empty());

    // Links outside the project, or to nothing, are refused and store nothing.
    ctx.store.create_project("q", "", &a).await?;
    ctx.store
        .create_dataset("q", "dq", "", "internal", &a)
        .await?;
    let foreign_version = upload(&ctx, "q", "dq", CSV).await?.version.id;
    let foreign_model = model_version(&ctx, "q", "mq").await?;
    for (links, kind) in [
        (
            ModelLinks {
                model_version_id: Some(999_999),
                ..Default::default()
            },
            ErrorKind::NotFound,
        ),
        (
            ModelLinks {
                model_version_id: Some(foreign_model),
                ..Default::default()
            },
            ErrorKind::NotFound,
        ),
        (
            ModelLinks {
                model_version_id: Some(champion),
                reference_model_version_id: Some(foreign_model),
                output_version_id: None,
            },
            ErrorKind::NotFound,
        ),
        (
            ModelLinks {
                output_version_id: Some(foreign_version),
                ..Default::default()
            },
            ErrorKind::NotFound,
        ),
    ] {
        let mut bad = report(v, "evaluation", "pass");
        bad.models = links.clone();
        expect_err(
            ctx.store.add_report(&bad, &a).await,
            kind,
            &format!("{links:?}"),
        );
    }
    assert_eq!(
        ctx.store
            .list_reports("p", &ReportFilter::default(), &PageRequest::default())
            .await?
            .items
            .len(),
        2
    );
    Ok(())
}

pub async fn monitoring_monitors_crud(ctx: Ctx) -> TestResult {
    let (_, r) = setup(&ctx).await?;
    let a = actor("alice");
    let before = now_ms();
    let mut new = monitor("m", true, Some(3600), true);
    new.reference_version_id = Some(r);
    let created = ctx.store.create_monitor(&new, &a).await?;
    assert_eq!(
        (created.name.as_str(), created.dataset.as_str()),
        ("m", "d")
    );
    assert_eq!(created.reference_version_id, Some(r));
    assert_eq!(created.checks, json!([{"kind": "drift"}]));
    assert!(created.on_new_version && created.enabled);
    let next = created.next_run_at.expect("scheduled");
    assert!(next >= before + 3_600_000 && next <= now_ms() + 3_600_000);
    assert_eq!(created.last_run_at, None);
    assert_eq!(ctx.store.monitor("p", "m").await?, created);
    assert_eq!(ctx.store.monitor_by_id(created.id).await?, created);

    expect_err(
        ctx.store.create_monitor(&new, &a).await,
        ErrorKind::AlreadyExists,
        "duplicate name",
    );
    expect_err(
        ctx.store
            .create_monitor(&monitor("fast", false, Some(59), true), &a)
            .await,
        ErrorKind::InvalidArgument,
        "interval under a minute",
    );
    let mut unknown = monitor("u", false, None, true);
    unknown.dataset = "missing".into();
    expect_err(
        ctx.store.create_monitor(&unknown, &a).await,
        ErrorKind::NotFound,
        "unknown dataset",
    );
    for bad in ["", "a/b", " x"] {
        expect_err(
            ctx.store
                .create_monitor(&monitor(bad, false, None, true), &a)
                .await,
            ErrorKind::InvalidArgument,
            "bad name",
        );
    }
    let mut bad_ref = monitor("r", false, None, true);
    bad_ref.reference_version_id = Some(r + 1000);
    expect_err(
        ctx.store.create_monitor(&bad_ref, &a).await,
        ErrorKind::NotFound,
        "unknown reference version",
    );
    let disabled = ctx
        .store
        .create_monitor(&monitor("off", false, Some(60), false), &a)
        .await?;
    assert_eq!(
        disabled.next_run_at, None,
        "a disabled monitor is not scheduled"
    );

    // Updates: other fields keep the schedule, a new interval moves it, disabling clears it.
    let updated = ctx
        .store
        .update_monitor(
            "p",
            "m",
            &MonitorUpdate {
                checks: Some(json!([{"kind": "profile"}])),
                reference_version_id: Some(None),
                ..Default::default()
            },
            &a,
        )
        .await?;
    assert_eq!(updated.checks, json!([{"kind": "profile"}]));
    assert_eq!(updated.reference_version_id, None);
    assert_eq!(updated.next_run_at, Some(next));
    let updated = ctx
        .store
        .update_monitor(
            "p",
            "m",
            &MonitorUpdate {
                interval_seconds: Some(Some(60)),
                ..Default::default()
            },
            &a,
        )
        .await?;
    assert!(updated.next_run_at.expect("scheduled") <= now_ms() + 60_000);
    let updated = ctx
        .store
        .update_monitor(
            "p",
            "m",
            &MonitorUpdate {
                enabled: Some(false),
                ..Default::default()
            },
            &a,
        )
        .await?;
    assert_eq!((updated.enabled, updated.next_run_at), (false, None));
    expect_err(
        ctx.store
            .update_monitor(
                "p",
                "m",
                &MonitorUpdate {
                    interval_seconds: Some(Some(10)),
                    ..Default::default()
                },
                &a,
            )
            .await,
        ErrorKind::InvalidArgument,
        "interval under a minute",
    );
    expect_err(
        ctx.store
            .update_monitor("p", "nope", &MonitorUpdate::default(), &a)
            .await,
        ErrorKind::NotFound,
        "unknown monitor",
    );

    let listed = ctx.store.list_monitors("p", &page(1, None)).await?;
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].name, "m");
    let rest = ctx
        .store
        .list_monitors("p", &page(10, listed.next_cursor.as_deref()))
        .await?;
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].name, "off");

    // Deleting a monitor deletes its jobs and keeps its reports.
    let job = ctx.store.enqueue_monitor_run("p", "m", None, &a).await?;
    let v = job.dataset_version_id;
    assert_eq!(v, None);
    let mut rep = report(
        ctx.store.get_dataset_version("p", "d", 1).await?.id,
        "drift",
        "pass",
    );
    rep.monitor_id = Some(created.id);
    rep.job_id = Some(job.id);
    let kept = ctx.store.add_report(&rep, &a).await?;
    assert_eq!(kept.monitor.as_deref(), Some("m"));
    ctx.store
        .add_report(&report(kept.dataset_version_id, "drift", "pass"), &a)
        .await?;
    let monitor_made = |version: i64| {
        let store = ctx.store.clone();
        let filter = ReportFilter {
            dataset_version_id: Some(version),
            monitor_made: true,
            ..Default::default()
        };
        async move {
            store
                .list_reports("p", &filter, &PageRequest::default())
                .await
                .map(|p| p.items.iter().map(|r| r.id).collect::<Vec<_>>())
        }
    };
    assert_eq!(
        monitor_made(kept.dataset_version_id).await?,
        vec![kept.id],
        "not the one run by hand"
    );
    ctx.store.delete_monitor("p", "m", &a).await?;
    assert!(
        monitor_made(kept.dataset_version_id).await?.is_empty(),
        "a deleted monitor's reports count as made by hand"
    );
    expect_err(
        ctx.store.monitor("p", "m").await,
        ErrorKind::NotFound,
        "deleted",
    );
    expect_err(
        ctx.store.job("p", job.id).await,
        ErrorKind::NotFound,
        "jobs go with the monitor",
    );
    let kept = ctx.store.report("p", kept.id).await?;
    assert_eq!(
        (kept.monitor, kept.monitor_id, kept.job_id),
        (None, None, None)
    );
    expect_err(
        ctx.store.delete_monitor("p", "m", &a).await,
        ErrorKind::NotFound,
        "deleted twice",
    );
    let all = actions(&ctx.store).await?;
    for action in [
        "monitor.create",
        "monitor.update",
        "monitor.delete",
        "monitor.run",
    ] {
        assert!(all.iter().any(|x| x == action), "{action} in {all:?}");
    }
    assert!(ctx.store.verify_audit_chain().await?.is_intact());
    Ok(())
}

pub async fn monitoring_new_version_enqueues_jobs(ctx: Ctx) -> TestResult {
    setup(&ctx).await?;
    let a = actor("alice");
    let on = ctx
        .store
        .create_monitor(&monitor("on", true, None, true), &a)
        .await?;
    let also = ctx
        .store
        .create_monitor(&monitor("also", true, Some(600), true), &a)
        .await?;
    ctx.store
        .create_monitor(&monitor("disabled", true, None, false), &a)
        .await?;
    ctx.store
        .create_monitor(&monitor("schedule-only", false, Some(600), true), &a)
        .await?;
    let mut other = monitor("other-dataset", true, None, true);
    other.dataset = "ref".into();
    ctx.store.create_monitor(&other, &a).await?;
    assert!(queued(&ctx.store).await?.is_empty());

    let v2 = upload(&ctx, "p", "d", "id,name,score\n5,eps,5\n").await?;
    assert!(v2.created);
    let jobs = queued(&ctx.store).await?;
    let mut got: Vec<(i64, Option<i64>, &str, &str)> = jobs
        .iter()
        .map(|j| {
            (
                j.monitor_id,
                j.dataset_version_id,
                j.trigger.as_str(),
                j.created_by.as_str(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (on.id, Some(v2.version.id), "new_version", "tester"),
            (also.id, Some(v2.version.id), "new_version", "tester"),
        ]
    );
    assert!(jobs.iter().all(|j| j.attempts == 0 && j.max_attempts == 3));
    assert_eq!(
        ctx.store
            .list_jobs("p", Some("on"), &PageRequest::default())
            .await?
            .items
            .len(),
        1
    );
    expect_err(
        ctx.store
            .list_jobs("p", Some("nope"), &PageRequest::default())
            .await,
        ErrorKind::NotFound,
        "unknown monitor",
    );

    // An identical re-upload is not a new version: no job.
    let again = upload(&ctx, "p", "d", "id,name,score\n5,eps,5\n").await?;
    assert!(!again.created);
    assert_eq!(queued(&ctx.store).await?.len(), 2);

    // Manual runs: of the latest version, or of a version of the target only.
    let manual = ctx
        .store
        .enqueue_monitor_run("p", "disabled", Some(v2.version.id), &a)
        .await?;
    assert_eq!(
        (
            manual.trigger.as_str(),
            manual.state.as_str(),
            manual.monitor.as_str()
        ),
        ("manual", "queued", "disabled")
    );
    let ref_version = ctx.store.get_dataset_version("p", "ref", 1).await?.id;
    expect_err(
        ctx.store
            .enqueue_monitor_run("p", "on", Some(ref_version), &a)
            .await,
        ErrorKind::InvalidArgument,
        "a version of another dataset",
    );
    expect_err(
        ctx.store.enqueue_monitor_run("p", "nope", None, &a).await,
        ErrorKind::NotFound,
        "unknown monitor",
    );
    assert_eq!(ctx.store.job("p", manual.id).await?, manual);
    ctx.store.create_project("q", "", &a).await?;
    expect_err(
        ctx.store.job("q", manual.id).await,
        ErrorKind::NotFound,
        "job of another project",
    );
    Ok(())
}

pub async fn monitoring_jobs_claim_lease_retry(ctx: Ctx) -> TestResult {
    setup(&ctx).await?;
    let a = actor("alice");
    ctx.store
        .create_monitor(&monitor("m", false, None, true), &a)
        .await?;
    assert_eq!(ctx.store.claim_job("w1", 60_000).await?, None);
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(ctx.store.enqueue_monitor_run("p", "m", None, &a).await?.id);
    }
    expect_err(
        ctx.store.claim_job("", 1000).await,
        ErrorKind::InvalidArgument,
        "empty worker",
    );

    // Oldest first, never the same job twice.
    let j1 = ctx.store.claim_job("w1", 60_000).await?.expect("a job");
    let j2 = ctx.store.claim_job("w2", 60_000).await?.expect("a job");
    assert_eq!((j1.id, j2.id), (ids[0], ids[1]));
    assert_eq!(
        (j1.state.as_str(), j1.attempts, j1.lease_owner.as_deref()),
        ("running", 1, Some("w1"))
    );
    assert!(j1.started_at.is_some() && j1.lease_until.expect("lease") > now_ms());

    // Heartbeats: the holder extends, anyone else is refused.
    assert!(ctx.store.heartbeat_job(j1.id, "w1", 60_000).await?);
    assert!(!ctx.store.heartbeat_job(j1.id, "w2", 60_000).await?);

    // Success needs the lease.
    assert!(!ctx.store.complete_job(j1.id, "w2", None).await?);
    assert!(ctx.store.complete_job(j1.id, "w1", None).await?);
    let done = ctx.store.job("p", j1.id).await?;
    assert_eq!(done.state, "succeeded");
    assert!(done.finished_at.is_some());
    assert!(
        !ctx.store.complete_job(j1.id, "w1", None).await?,
        "only once"
    );
    assert!(!ctx.store.heartbeat_job(j1.id, "w1", 60_000).await?);

    // A failure with attempts left goes back to the queue, due after the backoff.
    assert!(!ctx.store.fail_job(j2.id, "w1", "not mine", Some(0)).await?);
    assert!(
        ctx.store
            .fail_job(j2.id, "w2", "boom", Some(60_000))
            .await?
    );
    let retried = ctx.store.job("p", j2.id).await?;
    assert_eq!(
        (retried.state.as_str(), retried.error.as_deref()),
        ("queued", Some("boom"))
    );
    assert!(retried.run_after > now_ms() + 50_000);
    let j3 = ctx.store.claim_job("w1", 60_000).await?.expect("a job");
    assert_eq!(j3.id, ids[2], "the retried job waits for its backoff");
    assert_eq!(ctx.store.claim_job("w1", 60_000).await?, None);
    assert!(ctx.store.fail_job(j3.id, "w1", "again", Some(0)).await?);
    let again = ctx.store.claim_job("w3", 60_000).await?.expect("due again");
    assert_eq!((again.id, again.attempts), (j3.id, 2));

    // A lease that runs out is reclaimed by another worker (one more attempt); the first
    // worker's heartbeat is then refused.
    assert!(ctx.store.heartbeat_job(again.id, "w3", 1).await?);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let reclaimed = ctx.store.claim_job("w4", 1).await?.expect("reclaimed");
    assert_eq!((reclaimed.id, reclaimed.attempts), (j3.id, 3));
    assert_eq!(reclaimed.lease_owner.as_deref(), Some("w4"));
    assert!(!ctx.store.heartbeat_job(j3.id, "w3", 60_000).await?);
    assert!(!ctx.store.fail_job(j3.id, "w3", "late", Some(0)).await?);

    // Its last attempt's worker stops too: the job fails instead of being claimed again.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(ctx.store.claim_job("w5", 60_000).await?, None);
    let failed = ctx.store.job("p", j3.id).await?;
    assert_eq!(
        (failed.state.as_str(), failed.error.as_deref()),
        ("failed", Some(WORKER_STOPPED))
    );
    assert!(failed.finished_at.is_some());

    // A failure on the last attempt is final.
    let last = ctx.store.enqueue_monitor_run("p", "m", None, &a).await?;
    for attempt in 1..=3 {
        let claimed = ctx.store.claim_job("w", 60_000).await?.expect("a job");
        assert_eq!((claimed.id, claimed.attempts), (last.id, attempt));
        assert!(ctx.store.fail_job(last.id, "w", "nope", Some(0)).await?);
    }
    let last = ctx.store.job("p", last.id).await?;
    assert_eq!((last.state.as_str(), last.attempts), ("failed", 3));
    assert_eq!(ctx.store.claim_job("w", 60_000).await?, None);

    // Without a retry delay the job fails at once, attempts left or not.
    let hopeless = ctx.store.enqueue_monitor_run("p", "m", None, &a).await?;
    let claimed = ctx.store.claim_job("w", 60_000).await?.expect("a job");
    assert_eq!((claimed.id, claimed.attempts), (hopeless.id, 1));
    assert!(
        ctx.store
            .fail_job(hopeless.id, "w", "no versions", None)
            .await?
    );
    let hopeless = ctx.store.job("p", hopeless.id).await?;
    assert_eq!(
        (hopeless.state.as_str(), hopeless.error.as_deref()),
        ("failed", Some("no versions"))
    );
    assert!(hopeless.finished_at.is_some());
    assert_eq!(ctx.store.claim_job("w", 60_000).await?, None);
    Ok(())
}

pub async fn monitoring_jobs_concurrent_claims(ctx: Ctx) -> TestResult {
    setup(&ctx).await?;
    let a = actor("alice");
    ctx.store
        .create_monitor(&monitor("m", false, None, true), &a)
        .await?;
    let mut all = HashSet::new();
    for _ in 0..20 {
        all.insert(ctx.store.enqueue_monitor_run("p", "m", None, &a).await?.id);
    }
    // Open the pool's connections first and start the claimers together, so that their
    // transactions overlap (otherwise the first claimer drains the queue while the others
    // are still connecting).
    let warm: Vec<_> = (0..8)
        .map(|_| {
            let store = ctx.store.clone();
            tokio::spawn(async move { store.list_jobs("p", None, &PageRequest::default()).await })
        })
        .collect();
    for task in warm {
        task.await??;
    }
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(4));
    let mut tasks = Vec::new();
    for w in 0..4 {
        let store = ctx.store.clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            let worker = format!("w{w}");
            start.wait().await;
            let mut got = Vec::new();
            while let Some(job) = store.claim_job(&worker, 60_000).await? {
                assert_eq!(job.lease_owner.as_deref(), Some(worker.as_str()));
                got.push(job.id);
                tokio::task::yield_now().await;
            }
            Ok::<_, verity_store::Error>(got)
        }));
    }
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await??);
    }
    let unique: HashSet<i64> = claimed.iter().copied().collect();
    assert_eq!(
        claimed.len(),
        20,
        "each job claimed exactly once: {claimed:?}"
    );
    assert_eq!(unique, all);
    let jobs = ctx.store.list_jobs("p", None, &page(100, None)).await?;
    assert!(
        jobs.items
            .iter()
            .all(|j| j.state == "running" && j.attempts == 1),
        "every job claimed once"
    );
    if ctx.kind == Kind::Postgres {
        // The claims overlapped: more than one worker got jobs.
        let workers: HashSet<_> = jobs.items.iter().map(|j| j.lease_owner.clone()).collect();
        assert!(workers.len() > 1, "{workers:?}");
    }
    Ok(())
}

pub async fn monitoring_due_monitors_are_enqueued_once(ctx: Ctx) -> TestResult {
    setup(&ctx).await?;
    let a = actor("alice");
    let due = ctx
        .store
        .create_monitor(&monitor("hourly", false, Some(3600), true), &a)
        .await?;
    let minute = ctx
        .store
        .create_monitor(&monitor("minutely", false, Some(60), true), &a)
        .await?;
    ctx.store
        .create_monitor(&monitor("off", false, Some(60), false), &a)
        .await?;
    ctx.store
        .create_monitor(&monitor("push", true, None, true), &a)
        .await?;
    let sched = actor("scheduler");
    let now = now_ms();
    assert_eq!(ctx.store.enqueue_due_monitors(now, &sched).await?, 0);

    // Two minutes on: only the minutely monitor is due.
    let t1 = now + 120_000;
    assert_eq!(ctx.store.enqueue_due_monitors(t1, &sched).await?, 1);
    let jobs = queued(&ctx.store).await?;
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        (
            jobs[0].monitor_id,
            jobs[0].trigger.as_str(),
            jobs[0].dataset_version_id
        ),
        (minute.id, "schedule", None)
    );
    assert_eq!(jobs[0].created_by, "scheduler");
    assert_eq!(
        ctx.store.monitor("p", "minutely").await?.next_run_at,
        Some(t1 + 60_000)
    );
    assert_eq!(
        ctx.store.monitor("p", "hourly").await?.next_run_at,
        due.next_run_at,
        "not due: unchanged"
    );
    // The same tick again enqueues nothing.
    assert_eq!(ctx.store.enqueue_due_monitors(t1, &sched).await?, 0);
    // Due again while its scheduled job still waits: no second job, the schedule moves on.
    let t2 = t1 + 60_000;
    assert_eq!(ctx.store.enqueue_due_monitors(t2, &sched).await?, 0);
    assert_eq!(
        ctx.store.monitor("p", "minutely").await?.next_run_at,
        Some(t2 + 60_000)
    );
    assert_eq!(queued(&ctx.store).await?.len(), 1);
    // Once that job is claimed, the next tick enqueues again; an hour on, both are due.
    assert!(ctx.store.claim_job("w", 60_000).await?.is_some());
    let t3 = now + 3_700_000;
    assert_eq!(ctx.store.enqueue_due_monitors(t3, &sched).await?, 2);
    let mut monitors: Vec<i64> = queued(&ctx.store)
        .await?
        .iter()
        .map(|j| j.monitor_id)
        .collect();
    monitors.sort();
    assert_eq!(monitors, vec![due.id, minute.id]);

    // Schedulers running side by side enqueue each due tick once.
    while ctx.store.claim_job("w", 60_000).await?.is_some() {}
    let t4 = now + 86_400_000;
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let store = ctx.store.clone();
            let sched = sched.clone();
            tokio::spawn(async move { store.enqueue_due_monitors(t4, &sched).await })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    assert_eq!(total, 2);
    assert_eq!(queued(&ctx.store).await?.len(), 2);
    assert!(
        !actions(&ctx.store)
            .await?
            .iter()
            .any(|a| a == "monitor.run"),
        "scheduled runs are not audited as manual runs"
    );
    Ok(())
}

pub async fn monitoring_alert_cycle_and_deliveries(ctx: Ctx) -> TestResult {
    let (v, _) = setup(&ctx).await?;
    let a = actor("alice");
    let worker = actor("worker");
    let m = ctx
        .store
        .create_monitor(&monitor("m", false, None, true), &a)
        .await?;
    let all_events = ctx
        .store
        .create_webhook(
            "p",
            "https://hooks.example.com/a?token=t0p",
            &["*".into()],
            "s1",
            "restricted",
            &a,
        )
        .await?;
    let opened_only = ctx
        .store
        .create_webhook(
            "p",
            "http://localhost:9000/b",
            &["alert.opened".into()],
            "s2",
            "restricted",
            &a,
        )
        .await?;
    ctx.store.create_project("q", "", &a).await?;
    let elsewhere = ctx
        .store
        .create_webhook(
            "q",
            "https://other.example.com/",
            &["*".into()],
            "s3",
            "restricted",
            &a,
        )
        .await?;

    let add = |status: &'static str| {
        let store = ctx.store.clone();
        let worker = worker.clone();
        let mut new = report(v, "drift", status);
        new.monitor_id = Some(m.id);
        async move { store.add_report(&new, &worker).await }
    };

    // A job completes in the same transaction as the outcome.
    let job = ctx.store.enqueue_monitor_run("p", "m", None, &a).await?;
    let claimed = ctx.store.claim_job("w1", 60_000).await?.expect("job");
    assert_eq!(claimed.id, job.id);
    let r1 = add("warn").await?;
    let opened = ctx
        .store
        .record_monitor_outcome(
            m.id,
            r1.id,
            "warn",
            "2 columns drifted",
            Some((job.id, "w1")),
            &payload,
            &worker,
        )
        .await?;
    let AlertChange::Opened(alert) = opened else {
        panic!("expected Opened, got {opened:?}");
    };
    assert_eq!(
        (
            alert.state.as_str(),
            alert.severity.as_str(),
            alert.occurrences
        ),
        ("open", "warn", 1)
    );
    assert_eq!(
        (alert.first_report_id, alert.last_report_id),
        (r1.id, r1.id)
    );
    assert_eq!(
        (alert.monitor.as_str(), alert.summary.as_str()),
        ("m", "2 columns drifted")
    );
    let job = ctx.store.job("p", job.id).await?;
    assert_eq!(
        (job.state.as_str(), job.report_id),
        ("succeeded", Some(r1.id))
    );
    assert!(ctx.store.monitor("p", "m").await?.last_run_at.is_some());

    let deliveries_of = |id: i64| {
        let store = ctx.store.clone();
        let project = if id == elsewhere.id { "q" } else { "p" };
        async move {
            store
                .list_deliveries(project, id, &PageRequest::default())
                .await
                .map(|p| p.items)
        }
    };
    let d_all = deliveries_of(all_events.id).await?;
    let d_opened = deliveries_of(opened_only.id).await?;
    assert_eq!(d_all.len(), 1);
    assert_eq!(d_opened.len(), 1);
    assert!(deliveries_of(elsewhere.id).await?.is_empty());
    let expected = format!("alert.opened:{}:open", alert.id);
    assert_eq!(
        (
            d_all[0].event.as_str(),
            d_all[0].payload.as_str(),
            d_all[0].state.as_str()
        ),
        ("alert.opened", expected.as_str(), "pending")
    );
    assert_eq!(d_opened[0].payload, expected);

    // A second failing report updates the alert (fail wins) and notifies nobody.
    let r2 = add("fail").await?;
    let updated = ctx
        .store
        .record_monitor_outcome(
            m.id,
            r2.id,
            "fail",
            "4 columns drifted",
            None,
            &payload,
            &worker,
        )
        .await?;
    let AlertChange::Updated(updated) = updated else {
        panic!("expected Updated, got {updated:?}");
    };
    assert_eq!(
        updated.id, alert.id,
        "at most one unresolved alert per monitor"
    );
    assert_eq!(
        (
            updated.severity.as_str(),
            updated.occurrences,
            updated.last_report_id
        ),
        ("fail", 2, r2.id)
    );
    assert_eq!(updated.first_report_id, r1.id);
    let r3 = add("warn").await?;
    let AlertChange::Updated(updated) = ctx
        .store
        .record_monitor_outcome(
            m.id,
            r3.id,
            "warn",
            "1 column drifted",
            None,
            &payload,
            &worker,
        )
        .await?
    else {
        panic!("expected Updated");
    };
    assert_eq!(
        (updated.severity.as_str(), updated.occurrences),
        ("fail", 3)
    );
    assert_eq!(deliveries_of(all_events.id).await?.len(), 1);

    // An error report changes no alert.
    let r_err = add("error").await?;
    assert_eq!(
        ctx.store
            .record_monitor_outcome(m.id, r_err.id, "error", "no data", None, &payload, &worker)
            .await?,
        AlertChange::Unchanged
    );

    // A passing report resolves it, and only the '*' webhook hears of it.
    let r4 = add("pass").await?;
    let AlertChange::Resolved(resolved) = ctx
        .store
        .record_monitor_outcome(m.id, r4.id, "pass", "no drift", None, &payload, &worker)
        .await?
    else {
        panic!("expected Resolved");
    };
    assert_eq!(
        (resolved.state.as_str(), resolved.resolved_by.as_deref()),
        ("resolved", Some("worker"))
    );
    let d_all = deliveries_of(all_events.id).await?;
    assert_eq!(d_all.len(), 2);
    assert_eq!(d_all[0].event, "alert.resolved", "newest first");
    assert_eq!(
        d_all[0].payload,
        format!("alert.resolved:{}:resolved", alert.id)
    );
    assert_eq!(deliveries_of(opened_only.id).await?.len(), 1);

    // Passing again changes nothing; failing again opens a new alert.
    let r5 = add("pass").await?;
    assert_eq!(
        ctx.store
            .record_monitor_outcome(m.id, r5.id, "pass", "ok", None, &payload, &worker)
            .await?,
        AlertChange::Unchanged
    );
    let r6 = add("fail").await?;
    let AlertChange::Opened(second) = ctx
        .store
        .record_monitor_outcome(m.id, r6.id, "fail", "bad", None, &payload, &worker)
        .await?
    else {
        panic!("expected Opened");
    };
    assert_ne!(second.id, alert.id);
    let alerts = ctx
        .store
        .list_alerts("p", None, &PageRequest::default())
        .await?;
    assert_eq!(
        alerts.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![second.id, alert.id]
    );
    let open = ctx
        .store
        .list_alerts("p", Some("open"), &PageRequest::default())
        .await?;
    assert_eq!(open.items.len(), 1);
    expect_err(
        ctx.store
            .list_alerts("p", Some("closed"), &PageRequest::default())
            .await,
        ErrorKind::InvalidArgument,
        "unknown state",
    );

    // A job the worker no longer holds: nothing is stored, Conflict.
    let job = ctx.store.enqueue_monitor_run("p", "m", None, &a).await?;
    ctx.store.claim_job("w1", 60_000).await?.expect("job");
    let r7 = add("fail").await?;
    expect_err(
        ctx.store
            .record_monitor_outcome(
                m.id,
                r7.id,
                "fail",
                "x",
                Some((job.id, "w2")),
                &payload,
                &worker,
            )
            .await,
        ErrorKind::Conflict,
        "stale worker",
    );
    let still = ctx.store.alert("p", second.id).await?;
    assert_eq!(still.occurrences, 1, "rolled back");
    assert_eq!(ctx.store.job("p", job.id).await?.state, "running");
    expect_err(
        ctx.store
            .record_monitor_outcome(m.id, r7.id, "bad", "x", None, &payload, &worker)
            .await,
        ErrorKind::InvalidArgument,
        "bad status",
    );
    expect_err(
        ctx.store
            .record_monitor_outcome(m.id + 100, r7.id, "fail", "x", None, &payload, &worker)
            .await,
        ErrorKind::NotFound,
        "unknown monitor",
    );

    let all = actions(&ctx.store).await?;
    for action in [
        "alert.open",
        "alert.update",
        "alert.resolve",
        "report.create",
        "webhook.create",
    ] {
        assert!(all.iter().any(|x| x == action), "{action} in {all:?}");
    }
    let report = ctx.store.verify_audit_chain().await?;
    assert!(report.is_intact(), "{report:?}");
    Ok(())
}

pub async fn monitoring_alert_acknowledge_and_resolve(ctx: Ctx) -> TestResult {
    let (v, _) = setup(&ctx).await?;
    let a = actor("alice");
    let m = ctx
        .store
        .create_monitor(&monitor("m", false, None, true), &a)
        .await?;
    let hook = ctx
        .store
        .create_webhook(
            "p",
            "https://h.example.com/x",
            &["alert.resolved".into()],
            "s",
            "restricted",
            &a,
        )
        .await?;
    let mut new = report(v, "quality", "fail");
    new.monitor_id = Some(m.id);
    let r1 = ctx.store.add_report(&new, &a).await?;
    let AlertChange::Opened(alert) = ctx
        .store
        .record_monitor_outcome(m.id, r1.id, "fail", "nulls", None, &payload, &a)
        .await?
    else {
        panic!("expected Opened");
    };
    assert!(
        ctx.store
            .list_deliveries("p", hook.id, &PageRequest::default())
            .await?
            .items
            .is_empty(),
        "not subscribed to alert.opened"
    );
    ctx.store.create_project("q", "", &a).await?;
    expect_err(
        ctx.store.acknowledge_alert("q", alert.id, &a).await,
        ErrorKind::NotFound,
        "alert of another project",
    );
    let bob = actor("bob");
    let acked = ctx.store.acknowledge_alert("p", alert.id, &bob).await?;
    assert_eq!(
        (acked.state.as_str(), acked.acknowledged_by.as_deref()),
        ("acknowledged", Some("bob"))
    );
    let again = ctx.store.acknowledge_alert("p", alert.id, &a).await?;
    assert_eq!(again, acked, "acknowledging twice changes nothing");

    // Updates keep it acknowledged.
    let r2 = ctx.store.add_report(&new, &a).await?;
    let AlertChange::Updated(updated) = ctx
        .store
        .record_monitor_outcome(m.id, r2.id, "fail", "nulls", None, &payload, &a)
        .await?
    else {
        panic!("expected Updated");
    };
    assert_eq!(
        (updated.state.as_str(), updated.occurrences),
        ("acknowledged", 2)
    );

    let resolved = ctx
        .store
        .resolve_alert("p", alert.id, &bob, &payload)
        .await?;
    assert_eq!(
        (resolved.state.as_str(), resolved.resolved_by.as_deref()),
        ("resolved", Some("bob"))
    );
    let deliveries = ctx
        .store
        .list_deliveries("p", hook.id, &PageRequest::default())
        .await?
        .items;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        deliveries[0].payload,
        format!("alert.resolved:{}:resolved", alert.id)
    );
    let twice = ctx.store.resolve_alert("p", alert.id, &a, &payload).await?;
    assert_eq!(twice, resolved, "resolving twice changes nothing");
    assert_eq!(
        ctx.store
            .list_deliveries("p", hook.id, &PageRequest::default())
            .await?
            .items
            .len(),
        1
    );
    expect_err(
        ctx.store.acknowledge_alert("p", alert.id, &a).await,
        ErrorKind::Conflict,
        "acknowledging a resolved alert",
    );
    expect_err(
        ctx.store.alert("p", alert.id + 100).await,
        ErrorKind::NotFound,
        "unknown alert",
    );
    let all = actions(&ctx.store).await?;
    assert_eq!(all.iter().filter(|x| *x == "alert.acknowledge").count(), 1);
    assert_eq!(all.iter().filter(|x| *x == "alert.resolve").count(), 1);
    assert!(ctx.store.verify_audit_chain().await?.is_intact());
    Ok(())
}

pub async fn monitoring_webhooks_and_deliveries(ctx: Ctx) -> TestResult {
    let (v, _) = setup(&ctx).await?;
    let a = actor("alice");
    let events = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for (url, evs, what) in [
        ("ftp://example.com/x", events(&["*"]), "ftp scheme"),
        ("file:///etc/passwd", events(&["*"]), "file scheme"),
        ("not a url", events(&["*"]), "not a url"),
        ("https://example.com/", events(&[]), "no events"),
        (
            "https://example.com/",
            events(&["alert.closed"]),
            "unknown event",
        ),
    ] {
        expect_err(
            ctx.store
                .create_webhook("p", url, &evs, "secret", "restricted", &a)
                .await,
            ErrorKind::InvalidArgument,
            what,
        );
    }
    expect_err(
        ctx.store
            .create_webhook(
                "p",
                "https://example.com/",
                &events(&["*"]),
                "",
                "restricted",
                &a,
            )
            .await,
        ErrorKind::InvalidArgument,
        "empty secret",
    );
    expect_err(
        ctx.store
            .create_webhook(
                "nope",
                "https://example.com/",
                &events(&["*"]),
                "s",
                "restricted",
                &a,
            )
            .await,
        ErrorKind::NotFound,
        "unknown project",
    );
    let secret = "whsec_very_secret_value";
    let hook = ctx
        .store
        .create_webhook(
            "p",
            "https://example.com/hook?token=tok123",
            &events(&["alert.opened", "alert.opened", "alert.resolved"]),
            secret,
            "restricted",
            &a,
        )
        .await?;
    assert_eq!(hook.events, events(&["alert.opened", "alert.resolved"]));
    assert!(hook.enabled);
    assert!(
        !format!("{hook:?}").contains(secret),
        "no secret in a Webhook"
    );
    assert_eq!(ctx.store.webhook("p", hook.id).await?, hook);
    assert_eq!(ctx.store.list_webhooks("p").await?, vec![hook.clone()]);
    assert_eq!(ctx.store.webhook_secret(hook.id).await?, secret);
    ctx.store.create_project("q", "", &a).await?;
    expect_err(
        ctx.store.webhook("q", hook.id).await,
        ErrorKind::NotFound,
        "webhook of another project",
    );
    assert!(ctx.store.list_webhooks("q").await?.is_empty());

    // Nothing to deliver yet.
    assert!(ctx.store.claim_delivery("s1", 60_000).await?.is_none());
    let m = ctx
        .store
        .create_monitor(&monitor("m", false, None, true), &a)
        .await?;
    let mut new = report(v, "drift", "fail");
    new.monitor_id = Some(m.id);
    let r1 = ctx.store.add_report(&new, &a).await?;
    ctx.store
        .record_monitor_outcome(m.id, r1.id, "fail", "x", None, &payload, &a)
        .await?;

    // Claim, fail with a retry, claim again after the backoff, deliver.
    let (d, got_secret) = ctx.store.claim_delivery("s1", 60_000).await?.expect("one");
    assert_eq!(got_secret, secret);
    assert_eq!(
        (
            d.event.as_str(),
            d.attempts,
            d.url.as_str(),
            d.project.as_str()
        ),
        (
            "alert.opened",
            1,
            "https://example.com/hook?token=tok123",
            "p"
        )
    );
    assert!(
        ctx.store.claim_delivery("s2", 60_000).await?.is_none(),
        "leased"
    );
    expect_err(
        ctx.store
            .record_delivery_attempt(d.id, "s2", Some(200), None, 5, None, true)
            .await,
        ErrorKind::Conflict,
        "not the holder",
    );
    ctx.store
        .record_delivery_attempt(
            d.id,
            "s1",
            Some(503),
            Some("unavailable"),
            40,
            Some(now_ms() + 60_000),
            false,
        )
        .await?;
    assert!(
        ctx.store.claim_delivery("s1", 60_000).await?.is_none(),
        "backing off"
    );
    expect_err(
        ctx.store
            .record_delivery_attempt(d.id, "s1", Some(200), None, 5, None, true)
            .await,
        ErrorKind::Conflict,
        "the lease ended with the attempt",
    );
    let listed = ctx
        .store
        .list_deliveries("p", hook.id, &PageRequest::default())
        .await?
        .items;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0].state.as_str(),
            listed[0].last_status,
            listed[0].last_error.as_deref()
        ),
        ("pending", Some(503), Some("unavailable"))
    );
    assert_eq!(listed[0].attempts_log.len(), 1);
    assert_eq!(listed[0].attempts_log[0].attempt, 1);
    assert_eq!(listed[0].attempts_log[0].duration_ms, 40);

    // A second alert (after resolving the first) gives a delivery that succeeds at once.
    let mut pass = report(v, "drift", "pass");
    pass.monitor_id = Some(m.id);
    let r2 = ctx.store.add_report(&pass, &a).await?;
    ctx.store
        .record_monitor_outcome(m.id, r2.id, "pass", "ok", None, &payload, &a)
        .await?;
    let (resolved, _) = ctx
        .store
        .claim_delivery("s1", 60_000)
        .await?
        .expect("resolved event");
    assert_eq!(resolved.event, "alert.resolved");
    ctx.store
        .record_delivery_attempt(resolved.id, "s1", Some(204), None, 7, None, true)
        .await?;

    // A lease that runs out is claimed again; a failure without retry is final.
    let r3 = ctx.store.add_report(&new, &a).await?;
    ctx.store
        .record_monitor_outcome(m.id, r3.id, "fail", "y", None, &payload, &a)
        .await?;
    let (third, _) = ctx.store.claim_delivery("s1", 1).await?.expect("third");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (again, _) = ctx
        .store
        .claim_delivery("s2", 60_000)
        .await?
        .expect("reclaimed");
    assert_eq!((again.id, again.attempts), (third.id, 2));
    expect_err(
        ctx.store
            .record_delivery_attempt(third.id, "s1", None, Some("late"), 1, None, false)
            .await,
        ErrorKind::Conflict,
        "stale sender",
    );
    ctx.store
        .record_delivery_attempt(
            third.id,
            "s2",
            None,
            Some("connection refused"),
            3,
            None,
            false,
        )
        .await?;
    let listed = ctx
        .store
        .list_deliveries("p", hook.id, &page(2, None))
        .await?;
    assert_eq!(listed.items.len(), 2);
    assert_eq!(listed.items[0].id, third.id, "newest first");
    assert_eq!(
        (
            listed.items[0].state.as_str(),
            listed.items[0].last_error.as_deref()
        ),
        ("failed", Some("connection refused"))
    );
    assert_eq!(listed.items[0].attempts_log.len(), 1);
    assert_eq!(listed.items[0].attempts_log[0].attempt, 2);
    assert_eq!(listed.items[1].id, resolved.id);
    assert_eq!(listed.items[1].state, "delivered");
    assert!(listed.items[1].delivered_at.is_some());
    assert_eq!(listed.items[1].attempts_log[0].status, Some(204));
    let rest = ctx
        .store
        .list_deliveries("p", hook.id, &page(2, listed.next_cursor.as_deref()))
        .await?;
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].id, d.id);
    assert!(ctx.store.claim_delivery("s1", 60_000).await?.is_none());
    expect_err(
        ctx.store
            .list_deliveries("q", hook.id, &PageRequest::default())
            .await,
        ErrorKind::NotFound,
        "deliveries of another project's webhook",
    );

    // Deleting the webhook deletes its deliveries; no secret or token reached the trail.
    ctx.store.delete_webhook("p", hook.id, &a).await?;
    expect_err(
        ctx.store.webhook("p", hook.id).await,
        ErrorKind::NotFound,
        "deleted",
    );
    expect_err(
        ctx.store.webhook_secret(hook.id).await,
        ErrorKind::NotFound,
        "deleted secret",
    );
    expect_err(
        ctx.store.delete_webhook("p", hook.id, &a).await,
        ErrorKind::NotFound,
        "deleted twice",
    );
    let events = ctx
        .store
        .list_audit_events(
            &AuditFilter::default(),
            &PageRequest::new(Some(1000), None)?,
        )
        .await?;
    for event in &events.items {
        assert!(!event.details.contains(secret), "{}", event.details);
        assert!(!event.details.contains("tok123"), "{}", event.details);
    }
    let hooks: Vec<&str> = events
        .items
        .iter()
        .filter(|e| e.action.starts_with("webhook."))
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(hooks, ["webhook.create", "webhook.delete"]);
    assert!(ctx.store.verify_audit_chain().await?.is_intact());
    Ok(())
}
