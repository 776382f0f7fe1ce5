//! Contract cases for what MLflow clients add (both backends): logged models and the dataset
//! descriptions named as run inputs.

use verity_store::model::KeyValue;
use verity_store::{
    AuditFilter, ErrorKind, MlflowDatasetInput, ModelSource, NewLoggedModel, NewModelVersion,
    PageRequest, TagTarget,
};

use verity_store::model::MetricPoint;

use crate::{Ctx, TestResult, expect_err, log, project_with_experiment, run_named, stage};

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: value.into(),
    }
}

pub async fn mlflow_logged_models(ctx: Ctx) -> TestResult {
    let exp = project_with_experiment(&ctx, "p").await?;
    let run = run_named(&ctx, "p", exp, "r", 1).await?.run.uuid;
    let other = project_with_experiment(&ctx, "q").await?;
    let new = NewLoggedModel {
        experiment_id: exp,
        name: "model".into(),
        source_run_id: run.clone(),
        model_type: String::new(),
        params: vec![kv("lr", "0.1")],
        tags: vec![kv("mlflow.user", "alice")],
    };
    let created = ctx
        .store
        .create_logged_model("p", &new, &"alice".into())
        .await?;
    assert!(created.model_id.starts_with("m-") && created.model_id.len() == 34);
    assert_eq!(created.status, "PENDING");
    assert_eq!(
        created.artifact_dir(),
        format!("models/{}", created.model_id)
    );
    assert_eq!(created.source_run_id, run);
    let ready = ctx
        .store
        .update_logged_model(
            &created.model_id,
            Some("READY"),
            &[kv("mlflow.modelVersions", "[]"), kv("mlflow.user", "bob")],
            &[kv("epochs", "3")],
            &"alice".into(),
        )
        .await?;
    assert_eq!(ready.status, "READY");
    assert_eq!(
        ready.tags,
        vec![kv("mlflow.user", "bob"), kv("mlflow.modelVersions", "[]")]
    );
    assert_eq!(ready.params, vec![kv("lr", "0.1"), kv("epochs", "3")]);
    assert_eq!(ctx.store.get_logged_model(&created.model_id).await?, ready);

    let second = ctx
        .store
        .create_logged_model(
            "p",
            &NewLoggedModel {
                name: "other".into(),
                ..new.clone()
            },
            &"alice".into(),
        )
        .await?;
    let search = |name: Option<&'static str>, run: Option<String>| {
        let store = ctx.store.clone();
        async move {
            store
                .search_logged_models("p", &[exp], name, run.as_deref(), &PageRequest::default())
                .await
                .map(|p| p.items.into_iter().map(|m| m.model_id).collect::<Vec<_>>())
        }
    };
    assert_eq!(
        search(None, None).await?,
        vec![created.model_id.clone(), second.model_id.clone()]
    );
    assert_eq!(
        search(Some("other"), None).await?,
        vec![second.model_id.clone()]
    );
    assert_eq!(search(None, Some(run.clone())).await?.len(), 2);
    assert!(search(None, Some("0".repeat(32))).await?.is_empty());
    let page = ctx
        .store
        .search_logged_models("p", &[], None, None, &PageRequest::new(Some(1), None)?)
        .await?;
    assert_eq!(page.items.len(), 1);
    let rest = ctx
        .store
        .search_logged_models(
            "p",
            &[],
            None,
            None,
            &PageRequest::new(Some(1), page.next_cursor.as_deref())?,
        )
        .await?;
    assert_eq!(rest.items[0].model_id, second.model_id);

    // Refusals: a status that is not one, an unknown model, a run of another experiment or
    // project, an unknown run, a bad name.
    expect_err(
        ctx.store
            .update_logged_model(&created.model_id, Some("DONE"), &[], &[], &"a".into())
            .await,
        ErrorKind::InvalidArgument,
        "bad status",
    );
    expect_err(
        ctx.store.get_logged_model("m-nope").await,
        ErrorKind::NotFound,
        "unknown model",
    );
    for (project, experiment, run_id, kind) in [
        ("p", other, run.clone(), ErrorKind::NotFound),
        ("q", other, run.clone(), ErrorKind::InvalidArgument),
        ("p", exp, "0".repeat(32), ErrorKind::NotFound),
    ] {
        let bad = NewLoggedModel {
            experiment_id: experiment,
            source_run_id: run_id,
            ..new.clone()
        };
        expect_err(
            ctx.store
                .create_logged_model(project, &bad, &"a".into())
                .await,
            kind,
            "foreign experiment or run",
        );
    }
    let unnamed = NewLoggedModel {
        name: String::new(),
        ..new.clone()
    };
    expect_err(
        ctx.store
            .create_logged_model("p", &unnamed, &"a".into())
            .await,
        ErrorKind::InvalidArgument,
        "empty name",
    );

    // A tag deleted; a missing one is not found. A deleted model is neither found, listed nor
    // changed, and cannot be deleted twice.
    let untagged = ctx
        .store
        .delete_logged_model_tag(&created.model_id, "mlflow.user", &"a".into())
        .await?;
    assert_eq!(untagged.tags, vec![kv("mlflow.modelVersions", "[]")]);
    expect_err(
        ctx.store
            .delete_logged_model_tag(&created.model_id, "mlflow.user", &"a".into())
            .await,
        ErrorKind::NotFound,
        "a missing tag",
    );
    ctx.store
        .delete_logged_model(&second.model_id, &"a".into())
        .await?;
    expect_err(
        ctx.store.get_logged_model(&second.model_id).await,
        ErrorKind::NotFound,
        "a deleted model",
    );
    let listed = ctx
        .store
        .search_logged_models("p", &[], None, None, &PageRequest::default())
        .await?;
    assert_eq!(
        listed
            .items
            .iter()
            .map(|m| m.model_id.as_str())
            .collect::<Vec<_>>(),
        [created.model_id.as_str()]
    );
    for result in [
        ctx.store
            .update_logged_model(&second.model_id, Some("READY"), &[], &[], &"a".into())
            .await
            .map(drop),
        ctx.store
            .delete_logged_model(&second.model_id, &"a".into())
            .await,
    ] {
        expect_err(result, ErrorKind::NotFound, "a deleted model");
    }
    Ok(())
}

pub async fn mlflow_dataset_inputs(ctx: Ctx) -> TestResult {
    let exp = project_with_experiment(&ctx, "p").await?;
    let run = run_named(&ctx, "p", exp, "r", 1).await?.run.uuid;
    let input = MlflowDatasetInput {
        name: "train".into(),
        digest: "5a364cb9".into(),
        source_type: "code".into(),
        source: "{}".into(),
        schema: "{\"mlflow_colspec\": []}".into(),
        profile: "{\"num_rows\": 2}".into(),
        tags: vec![kv("mlflow.data.context", "training")],
    };
    ctx.store
        .add_mlflow_inputs(&run, std::slice::from_ref(&input), &"alice".into())
        .await?;
    // The same dataset again is recorded once.
    ctx.store
        .add_mlflow_inputs(&run, std::slice::from_ref(&input), &"alice".into())
        .await?;
    assert_eq!(ctx.store.mlflow_inputs(&run).await?, vec![input.clone()]);
    for bad in [
        MlflowDatasetInput {
            digest: "x".repeat(37),
            ..input.clone()
        },
        MlflowDatasetInput {
            name: String::new(),
            ..input.clone()
        },
        MlflowDatasetInput {
            source: "a\0b".into(),
            ..input.clone()
        },
    ] {
        expect_err(
            ctx.store.add_mlflow_inputs(&run, &[bad], &"a".into()).await,
            ErrorKind::InvalidArgument,
            "bad dataset description",
        );
    }
    expect_err(
        ctx.store
            .add_mlflow_inputs(&"0".repeat(32), &[input], &"a".into())
            .await,
        ErrorKind::NotFound,
        "unknown run",
    );
    Ok(())
}

/// Tags on experiments, registered models and versions: set, overwrite, delete, audited, and
/// refused on what does not exist or is deleted.
pub async fn mlflow_tags(ctx: Ctx) -> TestResult {
    let exp = project_with_experiment(&ctx, "p").await?;
    let other_exp = project_with_experiment(&ctx, "q").await?;
    let alice = "alice".into();
    let on_exp = TagTarget::Experiment {
        project: "p",
        id: exp,
    };
    ctx.store
        .set_tags_of(on_exp, &[kv("team", "risk"), kv("stage", "dev")], &alice)
        .await?;
    ctx.store
        .set_tags_of(on_exp, &[kv("stage", "prod")], &alice)
        .await?;
    let tags = ctx.store.experiment_tags(&[exp, other_exp]).await?;
    assert_eq!(
        tags.get(&exp),
        Some(&vec![kv("stage", "prod"), kv("team", "risk")])
    );
    assert!(!tags.contains_key(&other_exp));
    ctx.store.delete_tag_of(on_exp, "team", &alice).await?;
    expect_err(
        ctx.store.delete_tag_of(on_exp, "team", &alice).await,
        ErrorKind::NotFound,
        "a deleted tag",
    );
    // Another project's experiment is not found; a deleted one refuses changes.
    expect_err(
        ctx.store
            .set_tags_of(
                TagTarget::Experiment {
                    project: "p",
                    id: other_exp,
                },
                &[kv("a", "b")],
                &alice,
            )
            .await,
        ErrorKind::NotFound,
        "another project's experiment",
    );
    ctx.store
        .set_experiment_deleted("p", exp, true, &alice)
        .await?;
    expect_err(
        ctx.store.set_tags_of(on_exp, &[kv("a", "b")], &alice).await,
        ErrorKind::Conflict,
        "a deleted experiment",
    );
    ctx.store
        .set_experiment_deleted("p", exp, false, &alice)
        .await?;

    // Registered models and versions.
    ctx.store.create_model("p", "clf", "", &alice).await?;
    let on_model = TagTarget::Model {
        project: "p",
        name: "clf",
    };
    ctx.store
        .set_tags_of(on_model, &[kv("owner", "risk")], &alice)
        .await?;
    assert_eq!(
        ctx.store.get_model("p", "clf").await?.tags,
        vec![kv("owner", "risk")]
    );
    let run = run_named(&ctx, "p", exp, "r", 1).await?.run.uuid;
    let staged = stage(&ctx, b"weights".to_vec()).await?;
    ctx.store
        .put_artifact(&run, "model/w.bin", staged, &alice)
        .await?;
    let new = NewModelVersion {
        source: ModelSource::RunArtifact {
            run_id: run,
            path: "model".into(),
        },
        description: String::new(),
        tags: vec![kv("framework", "torch")],
    };
    ctx.store
        .create_model_version("p", "clf", new, &alice)
        .await?;
    let on_version = TagTarget::ModelVersion {
        project: "p",
        model: "clf",
        version: 1,
    };
    ctx.store
        .set_tags_of(on_version, &[kv("validated", "yes")], &alice)
        .await?;
    ctx.store
        .delete_tag_of(on_version, "framework", &alice)
        .await?;
    assert_eq!(
        ctx.store.get_model_version("p", "clf", 1).await?.tags,
        vec![kv("validated", "yes")]
    );
    for (target, what) in [
        (
            TagTarget::Model {
                project: "p",
                name: "nope",
            },
            "an unknown model",
        ),
        (
            TagTarget::ModelVersion {
                project: "p",
                model: "clf",
                version: 2,
            },
            "an unknown version",
        ),
    ] {
        expect_err(
            ctx.store.set_tags_of(target, &[kv("a", "b")], &alice).await,
            ErrorKind::NotFound,
            what,
        );
    }
    expect_err(
        ctx.store
            .set_tags_of(on_model, &[kv("", "b")], &alice)
            .await,
        ErrorKind::InvalidArgument,
        "an empty key",
    );
    expect_err(
        ctx.store
            .set_tags_of(on_model, &[kv("k", &"v".repeat(10_000))], &alice)
            .await,
        ErrorKind::InvalidArgument,
        "a value over the limit",
    );
    // Every change is in the audit trail.
    let events = ctx
        .store
        .list_audit_events(
            &AuditFilter {
                project: Some("p".into()),
                ..AuditFilter::default()
            },
            &PageRequest::default(),
        )
        .await?;
    let actions: Vec<(&str, &str)> = events
        .items
        .iter()
        .map(|e| (e.action.as_str(), e.resource.as_str()))
        .collect();
    let experiment = format!("project/p/experiment/{exp}");
    assert!(
        actions.contains(&("experiment.update", experiment.as_str())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("model.update", "project/p/model/clf")),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("model_version.update", "project/p/model/clf/version/1")),
        "{actions:?}"
    );
    // Renaming: versions and tags follow; names stay unique and valid.
    ctx.store.create_model("p", "other", "", &alice).await?;
    expect_err(
        ctx.store.rename_model("p", "clf", "other", &alice).await,
        ErrorKind::AlreadyExists,
        "an existing name",
    );
    expect_err(
        ctx.store
            .rename_model("p", "clf", "bad name/", &alice)
            .await,
        ErrorKind::InvalidArgument,
        "an invalid name",
    );
    let renamed = ctx.store.rename_model("p", "clf", "clf2", &alice).await?;
    assert_eq!((renamed.name.as_str(), renamed.latest_version), ("clf2", 1));
    assert_eq!(renamed.tags, vec![kv("owner", "risk")]);
    assert_eq!(
        ctx.store.get_model_version("p", "clf2", 1).await?.tags,
        vec![kv("validated", "yes")]
    );
    expect_err(
        ctx.store.get_model("p", "clf").await,
        ErrorKind::NotFound,
        "the old name",
    );
    Ok(())
}

/// MLflow's sampled histories: NTILE buckets over the points in order, the last point kept,
/// the same on both backends (NaN included).
pub async fn mlflow_metric_sample(ctx: Ctx) -> TestResult {
    let exp = project_with_experiment(&ctx, "p").await?;
    let run = run_named(&ctx, "p", exp, "r", 1).await?.run.uuid;
    let at = |step: i64, timestamp: i64, value: f64| MetricPoint {
        key: "loss".into(),
        value,
        step,
        timestamp,
    };
    // Steps 0..9, each twice (timestamps 1000..1019); step 4's second point is NaN.
    let points: Vec<MetricPoint> = (0..20)
        .map(|i| at(i / 2, 1000 + i, if i == 9 { f64::NAN } else { i as f64 }))
        .collect();
    log(&ctx, &run, vec![], vec![], points).await?;
    let sample = |max: u32, range: Option<(i64, i64)>| {
        let ctx = &ctx;
        let run = &run;
        async move {
            let points = ctx.store.metric_sample(run, "loss", max, range).await?;
            Ok::<_, verity_store::Error>(
                points
                    .iter()
                    .map(|p| (p.step, p.timestamp))
                    .collect::<Vec<_>>(),
            )
        }
    };
    // 20 points in 4 runs of 5 (first points 0, 5, 10, 15), the last replacing the final pick.
    assert_eq!(
        sample(4, None).await?,
        [(0, 1000), (2, 1005), (5, 1010), (9, 1019)]
    );
    // NTILE(3) over 20: runs of 7, 7, 6.
    assert_eq!(sample(3, None).await?, [(0, 1000), (3, 1007), (9, 1019)]);
    assert_eq!(sample(1, None).await?, [(9, 1019)]);
    assert_eq!(sample(100, None).await?.len(), 20);
    assert_eq!(sample(2, Some((4, 5))).await?, [(4, 1008), (5, 1011)]);
    let nan = ctx
        .store
        .metric_sample(&run, "loss", 100, Some((4, 4)))
        .await?;
    assert!(nan[0].value == 8.0 && nan[1].value.is_nan(), "{nan:?}");
    assert!(sample(5, Some((50, 60))).await?.is_empty());
    assert!(
        ctx.store
            .metric_sample(&run, "never-logged", 5, None)
            .await?
            .is_empty()
    );
    expect_err(
        ctx.store.metric_sample(&run, "loss", 0, None).await,
        ErrorKind::InvalidArgument,
        "max 0",
    );
    expect_err(
        ctx.store
            .metric_sample(&"0".repeat(32), "loss", 5, None)
            .await,
        ErrorKind::NotFound,
        "an unknown run",
    );
    Ok(())
}
