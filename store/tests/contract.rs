//! The store contract: every case runs against SQLite and against PostgreSQL.
//!
//! SQLite stores live in a temporary directory. PostgreSQL cases each get a fresh database,
//! created through `VERITY_TEST_POSTGRES_URL` (default `postgres://root@127.0.0.1:5432/test`)
//! and dropped afterwards; an unreachable server fails the PostgreSQL cases, it never skips them.
#![allow(clippy::unwrap_used, missing_docs)]

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{FutureExt as _, TryStreamExt as _};
use sha2::{Digest as _, Sha256};
use sqlx::Connection as _;
use tempfile::TempDir;
use verity_store::model::{
    Dataset, DatasetVersion, Direction, KeyValue, LogBatch, MetricPoint, NodeKind, RunDetail,
    ViewType,
};
use verity_store::{
    BlobStore, DataFormat, Error, ErrorKind, ModelSource, NewDatasetVersion, NewModelVersion,
    NewRun, PageRequest, RunSearch, RunUpdate, StagedBlob, Store, VersionRef, VersionSource,
};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

const DEFAULT_POSTGRES_URL: &str = "postgres://root@127.0.0.1:5432/test";
const MAX_BLOB: u64 = 64 * 1024 * 1024;

// ---------------------------------------------------------------------------
// Harness

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
}

/// What a case gets: the store (migrated) and the blob directory.
#[derive(Clone)]
struct Ctx {
    store: Store,
    blob_dir: PathBuf,
    /// The database URL, for cases that reach under the store (tampering, fault injection).
    database_url: String,
    kind: Kind,
}

fn postgres_admin_url() -> String {
    std::env::var("VERITY_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string())
}

async fn pg_admin(url: &str) -> sqlx::PgConnection {
    match sqlx::PgConnection::connect(url).await {
        Ok(conn) => conn,
        Err(e) => panic!(
            "PostgreSQL at {url} is unreachable: {e}. The PostgreSQL contract tests need a server; \
             set VERITY_TEST_POSTGRES_URL to one (they are never skipped)"
        ),
    }
}

/// Runs one case on one backend, then tears the backend down (also when the case fails).
async fn run_case<F, Fut>(kind: Kind, name: &str, case: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = TestResult>,
{
    let dir = TempDir::new().expect("temporary directory");
    let blob_dir = dir.path().join("blobs");
    let blobs = BlobStore::local(&blob_dir, MAX_BLOB).expect("local blob store");
    let admin_url = postgres_admin_url();
    let (database_url, pg_database) = match kind {
        Kind::Sqlite => (verity_store::sqlite_url_for(dir.path()), None),
        Kind::Postgres => {
            let db = format!("verity_contract_{}", uuid::Uuid::new_v4().simple());
            let mut admin = pg_admin(&admin_url).await;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{db}\"")))
                .execute(&mut admin)
                .await
                .unwrap_or_else(|e| panic!("creating database {db} failed: {e}"));
            admin.close().await.ok();
            let mut url = url::Url::parse(&admin_url).expect("VERITY_TEST_POSTGRES_URL is a URL");
            url.set_path(&format!("/{db}"));
            (url.to_string(), Some(db))
        }
    };
    let store = Store::connect(&database_url, blobs)
        .await
        .unwrap_or_else(|e| panic!("connecting to {database_url}: {e}"));
    let migrated = store.migrate().await;
    let outcome = match migrated {
        Ok(()) => {
            AssertUnwindSafe(case(Ctx {
                store: store.clone(),
                blob_dir,
                database_url: database_url.clone(),
                kind,
            }))
            .catch_unwind()
            .await
        }
        Err(e) => Ok(Err(format!("migrate failed: {e}").into())),
    };
    store.close().await;
    if let Some(db) = pg_database {
        let mut admin = pg_admin(&admin_url).await;
        if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await
        {
            eprintln!("dropping database {db} failed: {e}");
        }
        admin.close().await.ok();
    }
    drop(dir);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("[{kind:?}] {name} failed: {e}"),
        Err(panic) => {
            eprintln!("[{kind:?}] {name} panicked");
            std::panic::resume_unwind(panic)
        }
    }
}

/// Instantiates every case once per backend: `sqlite::<case>` and `postgres::<case>`.
macro_rules! contract_tests {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    crate::run_case(crate::Kind::Sqlite, stringify!($case), crate::cases::$case).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    crate::run_case(crate::Kind::Postgres, stringify!($case), crate::cases::$case).await;
                }
            )*
        }
    };
}

contract_tests!(
    compliance_documentation_and_reports,
    audit_filter_by_resource_takes_what_is_under_it,
    projects_create_get_duplicate,
    projects_list_pagination,
    projects_invalid_names_store_nothing,
    datasets_csv_upload_schema_and_rows,
    datasets_identical_upload_is_stored_once,
    datasets_parquet_upload,
    datasets_truncated_parquet_is_rejected,
    datasets_invalid_csv_is_rejected,
    datasets_local_urls_cannot_be_registered,
    datasets_derived_lineage_list_and_get,
    datasets_unknown_is_not_found,
    experiments_create_rename_duplicate,
    experiments_soft_delete_restore_and_views,
    experiments_deleted_rejects_new_runs,
    runs_create_with_tags_and_finish,
    runs_params_immutable_and_batches_atomic,
    runs_tags_overwrite_and_delete,
    runs_non_finite_metrics_round_trip,
    runs_latest_metric_is_highest_step,
    runs_large_batch_in_one_call,
    runs_deleted_rejects_log_batch,
    runs_inputs_and_outputs_in_detail,
    runs_input_from_other_project_is_not_found,
    metrics_history_paging,
    metrics_downsample_keeps_spikes,
    metrics_downsample_ranges_and_errors,
    search_and_or_parentheses,
    search_like_is_case_sensitive_ilike_is_not,
    search_in_is_null_attributes_datasets,
    search_order_by_metric_missing_last,
    search_pagination,
    search_malformed_filter_and_injection,
    search_at_its_limits,
    artifacts_put_list_get,
    artifacts_are_immutable,
    artifacts_invalid_paths,
    models_version_from_run_artifact_directory,
    models_version_from_upload,
    models_lists_carry_each_items_own_details,
    models_alias_set_move_delete_and_history,
    models_resolve_alias_at_past_time,
    models_alias_errors,
    lineage_walks,
    lineage_stops_at_the_node_limit,
    audit_every_change_is_chained,
    audit_verify_detects_an_edited_event,
    audit_verify_detects_a_deleted_event,
    audit_verify_detects_swapped_events,
    audit_verify_detects_a_truncated_tail,
    audit_failure_rolls_the_change_back,
    audit_filters_and_pages,
    identity_users_tokens_sessions,
    policies_seed_once_members_and_revision,
    datasets_sensitivity_set_and_validated,
    monitoring_reports_add_get_list_filter_page,
    monitoring_reports_lineage_and_validation,
    monitoring_evaluation_reports_link_models,
    mlflow_logged_models,
    mlflow_dataset_inputs,
    mlflow_tags,
    mlflow_metric_sample,
    monitoring_monitors_crud,
    monitoring_new_version_enqueues_jobs,
    monitoring_jobs_claim_lease_retry,
    monitoring_jobs_concurrent_claims,
    monitoring_due_monitors_are_enqueued_once,
    monitoring_alert_cycle_and_deliveries,
    monitoring_alert_acknowledge_and_resolve,
    monitoring_webhooks_and_deliveries,
    privacy_budgets_charges_and_refusals,
    privacy_concurrent_charges_never_overspend,
    masking_set_inherit_and_keys,
    promotion_gates_reviews_and_retirement,
);

// ---------------------------------------------------------------------------
// Helpers

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: value.to_string(),
    }
}

fn point(key: &str, value: f64, step: i64) -> MetricPoint {
    MetricPoint {
        key: key.to_string(),
        value,
        step,
        timestamp: 1_000 + step,
    }
}

fn page(limit: u32, cursor: Option<&str>) -> PageRequest {
    PageRequest::new(Some(limit), cursor).expect("valid page request")
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Asserts that `result` failed with `kind`, and returns the error.
#[track_caller]
fn expect_err<T: std::fmt::Debug>(
    result: verity_store::Result<T>,
    kind: ErrorKind,
    what: &str,
) -> Error {
    match result {
        Ok(value) => panic!("{what}: expected {kind:?}, got Ok({value:?})"),
        Err(e) => {
            assert_eq!(e.kind(), kind, "{what}: expected {kind:?}, got {e:?}");
            e
        }
    }
}

async fn stage(ctx: &Ctx, bytes: impl Into<Vec<u8>>) -> verity_store::Result<StagedBlob> {
    let bytes = Bytes::from(bytes.into());
    // Two chunks, to exercise streaming.
    let mid = bytes.len() / 2;
    let chunks = vec![
        Ok::<_, std::io::Error>(bytes.slice(..mid)),
        Ok(bytes.slice(mid..)),
    ];
    ctx.store.blobs().stage(futures::stream::iter(chunks)).await
}

async fn upload(
    ctx: &Ctx,
    project: &str,
    dataset: &str,
    bytes: impl Into<Vec<u8>>,
) -> verity_store::Result<verity_store::AddedVersion> {
    upload_with(ctx, project, dataset, bytes, None, None).await
}

async fn upload_with(
    ctx: &Ctx,
    project: &str,
    dataset: &str,
    bytes: impl Into<Vec<u8>>,
    format: Option<DataFormat>,
    derived_from_id: Option<i64>,
) -> verity_store::Result<verity_store::AddedVersion> {
    let staged = stage(ctx, bytes).await?;
    let new = NewDatasetVersion {
        source: VersionSource::Upload(staged),
        format,
        derived_from_id,
        description: String::new(),
    };
    ctx.store
        .add_dataset_version(project, dataset, new, &"tester".into())
        .await
}

/// Every file under `dir`, recursively (none when it does not exist).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

async fn blob_bytes(ctx: &Ctx, hash: &str) -> verity_store::Result<Vec<u8>> {
    let (_, stream) = ctx.store.blobs().get(hash).await?;
    let chunks: Vec<Bytes> = stream.try_collect().await?;
    Ok(chunks.concat())
}

async fn project_with_experiment(ctx: &Ctx, project: &str) -> verity_store::Result<i64> {
    ctx.store
        .create_project(project, "", &"tester".into())
        .await?;
    Ok(ctx
        .store
        .create_experiment(project, "exp", "", &"tester".into())
        .await?
        .id)
}

async fn run_named(
    ctx: &Ctx,
    project: &str,
    experiment: i64,
    name: &str,
    start: i64,
) -> verity_store::Result<RunDetail> {
    let new = NewRun {
        name: Some(name.to_string()),
        start_time: Some(start),
        tags: vec![],
    };
    ctx.store
        .create_run(project, experiment, new, &"tester".into())
        .await
}

async fn log(
    ctx: &Ctx,
    uuid: &str,
    params: Vec<KeyValue>,
    tags: Vec<KeyValue>,
    metrics: Vec<MetricPoint>,
) -> verity_store::Result<()> {
    ctx.store
        .log_batch(
            uuid,
            &LogBatch {
                params,
                tags,
                metrics,
            },
            &"tester".into(),
        )
        .await
}

const CSV: &str = "id,name,score\n1,alpha,0.5\n2,beta,1.5\n3,gamma,2.25\n";

fn field_summary(version: &DatasetVersion) -> Vec<(String, String, bool)> {
    version.schema["fields"]
        .as_array()
        .expect("schema has fields")
        .iter()
        .map(|f| {
            (
                f["name"].as_str().expect("name").to_string(),
                f["data_type"].as_str().expect("data_type").to_string(),
                f["nullable"].as_bool().expect("nullable"),
            )
        })
        .collect()
}

fn parquet_bytes(rows: i64) -> Vec<u8> {
    use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("label", DataType::Utf8, true),
        Field::new("weight", DataType::Float64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(0..rows)),
        Arc::new(StringArray::from_iter_values(
            (0..rows).map(|i| format!("row-{i}")),
        )),
        Arc::new(Float64Array::from_iter_values(
            (0..rows).map(|i| i as f64 / 2.0),
        )),
    ];
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns).expect("record batch");
    let mut buf = Vec::new();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(&mut buf, schema, None).expect("parquet writer");
    writer.write(&batch).expect("write batch");
    writer.close().expect("close parquet writer");
    buf
}

fn run_names(page: &[RunDetail]) -> Vec<String> {
    page.iter().map(|d| d.run.name.clone()).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------
// Cases

#[path = "contract/audit.rs"]
mod audit_cases;
#[path = "contract/compliance.rs"]
mod compliance_cases;
#[path = "contract/mlflow.rs"]
mod mlflow_cases;
#[path = "contract/monitoring.rs"]
mod monitoring_cases;
#[path = "contract/privacy.rs"]
mod privacy_cases;

mod cases {
    use super::*;
    pub use crate::audit_cases::*;
    pub use crate::compliance_cases::*;
    pub use crate::mlflow_cases::*;
    pub use crate::monitoring_cases::*;
    pub use crate::privacy_cases::*;

    // --- projects ---------------------------------------------------------

    pub async fn projects_create_get_duplicate(ctx: Ctx) -> TestResult {
        let created = ctx
            .store
            .create_project("vision", "image models", &"alice".into())
            .await?;
        assert_eq!(created.name, "vision");
        assert_eq!(created.description, "image models");
        assert_eq!(created.created_by, "alice");
        assert!(created.created_at > 0);
        let got = ctx.store.get_project("vision").await?;
        assert_eq!(got, created);
        expect_err(
            ctx.store
                .create_project("vision", "again", &"bob".into())
                .await,
            ErrorKind::AlreadyExists,
            "duplicate project",
        );
        assert_eq!(
            ctx.store.get_project("vision").await?.description,
            "image models",
            "the duplicate changed nothing"
        );
        expect_err(
            ctx.store.get_project("nope").await,
            ErrorKind::NotFound,
            "unknown project",
        );
        let updated = ctx
            .store
            .update_project("vision", "new text", &"alice".into())
            .await?;
        assert_eq!(updated.description, "new text");
        Ok(())
    }

    pub async fn projects_list_pagination(ctx: Ctx) -> TestResult {
        for i in 0..5 {
            ctx.store
                .create_project(&format!("p{i}"), "", &"tester".into())
                .await?;
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut sizes = Vec::new();
        loop {
            let p = ctx.store.list_projects(&page(2, cursor.as_deref())).await?;
            sizes.push(p.items.len());
            seen.extend(p.items.into_iter().map(|p| p.name));
            match p.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
            assert!(sizes.len() < 10, "pagination does not terminate");
        }
        assert_eq!(sizes, vec![2, 2, 1]);
        assert_eq!(seen, strings(&["p0", "p1", "p2", "p3", "p4"]));
        let all = ctx.store.list_projects(&page(5, None)).await?;
        assert_eq!(all.items.len(), 5);
        assert_eq!(
            all.next_cursor, None,
            "exactly one full page has no next cursor"
        );
        expect_err(
            PageRequest::new(Some(2), Some("garbage!")),
            ErrorKind::InvalidArgument,
            "bad cursor",
        );
        Ok(())
    }

    pub async fn projects_invalid_names_store_nothing(ctx: Ctx) -> TestResult {
        let long = "x".repeat(257);
        for bad in [
            "",
            long.as_str(),
            "bell\u{7}",
            "new\nline",
            "a/b",
            " padded",
        ] {
            expect_err(
                ctx.store.create_project(bad, "", &"tester".into()).await,
                ErrorKind::InvalidArgument,
                &format!("name {bad:?}"),
            );
        }
        let ok = "y".repeat(256);
        ctx.store.create_project(&ok, "", &"tester".into()).await?;
        let all = ctx.store.list_projects(&page(100, None)).await?;
        assert_eq!(
            all.items.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
            vec![ok],
            "only the valid name was stored"
        );
        Ok(())
    }

    // --- datasets ---------------------------------------------------------

    pub async fn datasets_csv_upload_schema_and_rows(ctx: Ctx) -> TestResult {
        ctx.store.create_project("p", "", &"tester".into()).await?;
        let ds: Dataset = ctx
            .store
            .create_dataset("p", "iris", "flowers", "internal", &"alice".into())
            .await?;
        assert_eq!(
            (ds.project.as_str(), ds.name.as_str(), ds.version_count),
            ("p", "iris", 0)
        );
        expect_err(
            ctx.store
                .create_dataset("p", "iris", "", "internal", &"bob".into())
                .await,
            ErrorKind::AlreadyExists,
            "duplicate dataset",
        );
        let added = upload(&ctx, "p", "iris", CSV).await?;
        assert!(added.created);
        let v = added.version;
        assert_eq!(v.version, 1);
        assert_eq!(v.format, DataFormat::Csv);
        assert_eq!(v.row_count, 3);
        assert_eq!(v.byte_size, CSV.len() as i64);
        assert_eq!(v.content_hash, sha256_hex(CSV.as_bytes()));
        assert_eq!(
            field_summary(&v),
            vec![
                ("id".to_string(), "Int64".to_string(), true),
                ("name".to_string(), "Utf8".to_string(), true),
                ("score".to_string(), "Float64".to_string(), true),
            ]
        );
        assert_eq!(blob_bytes(&ctx, &v.content_hash).await?, CSV.as_bytes());
        assert_eq!(ctx.store.get_dataset("p", "iris").await?.version_count, 1);
        Ok(())
    }

    pub async fn datasets_identical_upload_is_stored_once(ctx: Ctx) -> TestResult {
        ctx.store.create_project("p", "", &"tester".into()).await?;
        ctx.store
            .create_dataset("p", "d", "", "internal", &"tester".into())
            .await?;
        let first = upload(&ctx, "p", "d", CSV).await?;
        let again = upload(&ctx, "p", "d", CSV).await?;
        assert!(first.created);
        assert!(!again.created, "identical bytes are not a new version");
        assert_eq!(again.version.content_hash, first.version.content_hash);
        assert_eq!(again.version.id, first.version.id);
        assert_eq!(again.version.version, 1);
        let blobs = files_under(&ctx.blob_dir.join("sha256"));
        assert_eq!(blobs.len(), 1, "one blob object: {blobs:?}");
        assert!(blobs[0].ends_with(&first.version.content_hash));
        let all = files_under(&ctx.blob_dir);
        assert_eq!(all, blobs, "no temporary files are left behind");
        let versions = ctx
            .store
            .list_dataset_versions("p", "d", &page(10, None))
            .await?;
        assert_eq!(versions.items.len(), 1);
        // Other bytes make version 2.
        let other = upload(&ctx, "p", "d", "id\n1\n2\n").await?;
        assert!(other.created);
        assert_eq!(other.version.version, 2);
        assert_eq!(other.version.row_count, 2);
        assert_eq!(files_under(&ctx.blob_dir.join("sha256")).len(), 2);
        Ok(())
    }

    pub async fn datasets_parquet_upload(ctx: Ctx) -> TestResult {
        ctx.store.create_project("p", "", &"tester".into()).await?;
        ctx.store
            .create_dataset("p", "pq", "", "internal", &"tester".into())
            .await?;
        let bytes = parquet_bytes(50);
        let added = upload(&ctx, "p", "pq", bytes.clone()).await?;
        let v = added.version;
        assert_eq!(
            v.format,
            DataFormat::Parquet,
            "sniffed from the magic bytes"
        );
        assert_eq!(v.row_count, 50);
        assert_eq!(v.byte_size, bytes.len() as i64);
        assert_eq!(
            field_summary(&v),
            vec![
                ("id".to_string(), "Int64".to_string(), false),
                ("label".to_string(), "Utf8".to_string(), true),
                ("weight".to_string(), "Float64".to_string(), true),
            ]
        );
        // Declared format works as well.
        let declared = upload_with(
            &ctx,
            "p",
            "pq",
            parquet_bytes(7),
            Some(DataFormat::Parquet),
            None,
        )
        .await?;
        assert_eq!(
            (declared.version.version, declared.version.row_count),
            (2, 7)
        );
        Ok(())
    }

    pub async fn datasets_truncated_parquet_is_rejected(ctx: Ctx) -> TestResult {
        ctx.store.create_project("p", "", &"tester".into()).await?;
        ctx.store
            .create_dataset("p", "pq", "", "internal", &"tester".into())
            .await?;
        let mut bytes = parquet_bytes(50);
        assert!(bytes.len() > 200);
        bytes.truncate(bytes.len() - 100);
        let hash = sha256_hex(&bytes);
        expect_err(
            upload(&ctx, "p", "pq", bytes.clone()).await,
            ErrorKind::InvalidArgument,
            "truncated parquet (sniffed)",
        );
        expect_err(
            upload_with(&ctx, "p", "pq", bytes, Some(DataFormat::Parquet), None).await,
            ErrorKind::InvalidArgument,
            "truncated parquet (declared)",
        );
        assert!(
            ctx.store
                .list_dataset_versions("p", "pq", &page(10, None))
                .await?
                .items
                .is_empty(),
            "no version row"
        );
        assert!(
            !ctx.store.blobs().contains(&hash).await?,
            "no committed blob"
        );
        assert_eq!(
            files_under(&ctx.blob_dir),
            Vec::<PathBuf>::new(),
            "nothing left in the blob store"
        );
        assert_eq!(ctx.store.get_dataset("p", "pq").await?.version_count, 0);
        Ok(())
    }

    /// A client must not make the server read its own disk, whatever the url's spelling.
    pub async fn datasets_local_urls_cannot_be_registered(ctx: Ctx) -> TestResult {
        ctx.store.create_project("p", "", &"tester".into()).await?;
        ctx.store
            .create_dataset("p", "d", "", "internal", &"tester".into())
            .await?;
        let secret = ctx
            .blob_dir
            .parent()
            .unwrap_or(&ctx.blob_dir)
            .join("secret.csv");
        std::fs::write(&secret, "a,b\n1,2\n")?;
        let path = secret.display().to_string();
        for url in [
            format!("file://{path}"),
            format!("file:{path}"),
            format!(" file://{path}"),
            format!("FILE://{path}"),
            "memory:///x.csv".to_string(),
            "http://127.0.0.1:1/x.csv".to_string(),
            "not a url".to_string(),
        ] {
            let new = verity_store::NewDatasetVersion {
                source: verity_store::VersionSource::Url(url.clone()),
                format: None,
                derived_from_id: None,
                description: String::new(),
            };
            expect_err(
                ctx.store
                    .add_dataset_version("p", "d", new, &"tester".into())
                    .await,
                ErrorKind::InvalidArgument,
                &url,
            );
        }
        assert!(
            ctx.store
                .list_dataset_versions("p", "d", &page(10, None))
                .await?
                .items
                .is_empty()
        );
        Ok(())
    }

    pub async fn datasets_invalid_csv_is_rejected(ctx: Ctx) -> TestResult {
        ctx.store.create_project("p", "", &"tester".into()).await?;
        ctx.store
            .create_dataset("p", "d", "", "internal", &"tester".into())
            .await?;
        let ragged = b"a,b\n1,2,3\n4\n".to_vec();
        let bad_utf8 = b"a,b\n1,\xff\xfe\x80\n".to_vec();
        let no_header = b"".to_vec();
        let mut huge_row = b"a,b\n1,".to_vec();
        huge_row.extend(std::iter::repeat_n(b'x', 17 * 1024 * 1024));
        huge_row.push(b'\n');
        for (what, bytes) in [
            ("ragged rows", ragged),
            ("invalid utf-8", bad_utf8),
            ("empty", no_header),
            ("a 17 MiB row", huge_row),
        ] {
            expect_err(
                upload(&ctx, "p", "d", bytes.clone()).await,
                ErrorKind::InvalidArgument,
                what,
            );
            expect_err(
                upload_with(&ctx, "p", "d", bytes, Some(DataFormat::Csv), None).await,
                ErrorKind::InvalidArgument,
                &format!("{what} (declared csv)"),
            );
        }
        assert!(
            ctx.store
                .list_dataset_versions("p", "d", &page(10, None))
                .await?
                .items
                .is_empty()
        );
        assert_eq!(files_under(&ctx.blob_dir), Vec::<PathBuf>::new());
        Ok(())
    }

    pub async fn datasets_derived_lineage_list_and_get(ctx: Ctx) -> TestResult {
        ctx.store.create_project("p", "", &"tester".into()).await?;
        ctx.store
            .create_dataset("p", "d", "", "internal", &"tester".into())
            .await?;
        let v1 = upload(&ctx, "p", "d", CSV).await?.version;
        let v2 = upload_with(&ctx, "p", "d", "id,name,score\n9,z,0\n", None, Some(v1.id))
            .await?
            .version;
        assert_eq!(v2.version, 2);
        assert_eq!(v2.derived_from_id, Some(v1.id));
        expect_err(
            upload_with(&ctx, "p", "d", "x\n1\n", None, Some(v2.id + 1000)).await,
            ErrorKind::NotFound,
            "derived from a missing version",
        );
        let graph = ctx
            .store
            .lineage(
                NodeKind::DatasetVersion,
                &v2.id.to_string(),
                Direction::Upstream,
                1,
            )
            .await?;
        assert_eq!(graph.edges.len(), 1);
        let edge = &graph.edges[0];
        assert_eq!(
            (edge.from_kind, edge.from_id.clone()),
            (NodeKind::DatasetVersion, v1.id.to_string())
        );
        assert_eq!(
            (edge.to_kind, edge.to_id.clone()),
            (NodeKind::DatasetVersion, v2.id.to_string())
        );
        assert_eq!(edge.relation, "derived");
        let listed = ctx
            .store
            .list_dataset_versions("p", "d", &page(10, None))
            .await?;
        assert_eq!(
            listed.items.iter().map(|v| v.version).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(listed.next_cursor, None);
        let first = ctx
            .store
            .list_dataset_versions("p", "d", &page(1, None))
            .await?;
        assert_eq!(first.items.len(), 1);
        let second = ctx
            .store
            .list_dataset_versions("p", "d", &page(1, first.next_cursor.as_deref()))
            .await?;
        assert_eq!(
            second.items.iter().map(|v| v.version).collect::<Vec<_>>(),
            vec![2]
        );
        assert_eq!(ctx.store.get_dataset_version_by_id(v1.id).await?, v1);
        assert_eq!(ctx.store.get_dataset_version("p", "d", 2).await?, v2);
        expect_err(
            ctx.store.get_dataset_version("p", "d", 3).await,
            ErrorKind::NotFound,
            "version 3",
        );
        expect_err(
            ctx.store.get_dataset_version_by_id(v2.id + 1000).await,
            ErrorKind::NotFound,
            "unknown version id",
        );
        Ok(())
    }

    pub async fn datasets_unknown_is_not_found(ctx: Ctx) -> TestResult {
        ctx.store.create_project("p", "", &"tester".into()).await?;
        expect_err(
            ctx.store.get_dataset("p", "nope").await,
            ErrorKind::NotFound,
            "get unknown dataset",
        );
        expect_err(
            upload(&ctx, "p", "nope", CSV).await,
            ErrorKind::NotFound,
            "upload to unknown dataset",
        );
        expect_err(
            ctx.store
                .list_dataset_versions("p", "nope", &page(10, None))
                .await,
            ErrorKind::NotFound,
            "list unknown",
        );
        expect_err(
            ctx.store
                .create_dataset("nope", "d", "", "internal", &"tester".into())
                .await,
            ErrorKind::NotFound,
            "unknown project",
        );
        assert_eq!(
            files_under(&ctx.blob_dir),
            Vec::<PathBuf>::new(),
            "the staged upload was discarded"
        );
        Ok(())
    }

    // --- experiments ------------------------------------------------------

    pub async fn experiments_create_rename_duplicate(ctx: Ctx) -> TestResult {
        ctx.store.create_project("p", "", &"tester".into()).await?;
        let a = ctx
            .store
            .create_experiment("p", "baseline", "first", &"alice".into())
            .await?;
        assert_eq!(
            (a.project.as_str(), a.name.as_str(), a.description.as_str()),
            ("p", "baseline", "first")
        );
        assert_eq!(a.deleted_at, None);
        let b = ctx
            .store
            .create_experiment("p", "tuned", "", &"alice".into())
            .await?;
        expect_err(
            ctx.store
                .create_experiment("p", "baseline", "", &"bob".into())
                .await,
            ErrorKind::AlreadyExists,
            "duplicate experiment",
        );
        let renamed = ctx
            .store
            .update_experiment(
                "p",
                a.id,
                Some("baseline-v2"),
                Some("renamed"),
                &"alice".into(),
            )
            .await?;
        assert_eq!(
            (renamed.name.as_str(), renamed.description.as_str()),
            ("baseline-v2", "renamed")
        );
        assert_eq!(
            ctx.store
                .get_experiment_by_name("p", "baseline-v2")
                .await?
                .id,
            a.id
        );
        expect_err(
            ctx.store.get_experiment_by_name("p", "baseline").await,
            ErrorKind::NotFound,
            "old name",
        );
        expect_err(
            ctx.store
                .update_experiment("p", b.id, Some("baseline-v2"), None, &"alice".into())
                .await,
            ErrorKind::AlreadyExists,
            "rename onto an existing name",
        );
        assert_eq!(
            ctx.store.get_experiment("p", b.id).await?.name,
            "tuned",
            "the failed rename changed nothing"
        );
        // The same name in another project is fine; an id from another project is not found.
        ctx.store.create_project("q", "", &"tester".into()).await?;
        ctx.store
            .create_experiment("q", "tuned", "", &"tester".into())
            .await?;
        expect_err(
            ctx.store.get_experiment("q", a.id).await,
            ErrorKind::NotFound,
            "experiment of another project",
        );
        Ok(())
    }

    pub async fn experiments_soft_delete_restore_and_views(ctx: Ctx) -> TestResult {
        ctx.store.create_project("p", "", &"tester".into()).await?;
        let a = ctx
            .store
            .create_experiment("p", "a", "", &"tester".into())
            .await?;
        let b = ctx
            .store
            .create_experiment("p", "b", "", &"tester".into())
            .await?;
        let deleted = ctx
            .store
            .set_experiment_deleted("p", b.id, true, &"alice".into())
            .await?;
        assert!(deleted.deleted_at.is_some());
        let names = |v: Vec<verity_store::model::Experiment>| {
            v.into_iter().map(|e| e.name).collect::<Vec<_>>()
        };
        let active = ctx
            .store
            .list_experiments("p", ViewType::ActiveOnly, &page(10, None))
            .await?;
        assert_eq!(names(active.items), strings(&["a"]));
        let gone = ctx
            .store
            .list_experiments("p", ViewType::DeletedOnly, &page(10, None))
            .await?;
        assert_eq!(names(gone.items), strings(&["b"]));
        let all = ctx
            .store
            .list_experiments("p", ViewType::All, &page(10, None))
            .await?;
        let all_ids: Vec<i64> = all.items.iter().map(|e| e.id).collect();
        assert_eq!(names(all.items), strings(&["a", "b"]));
        expect_err(
            ctx.store
                .update_experiment("p", b.id, Some("c"), None, &"alice".into())
                .await,
            ErrorKind::Conflict,
            "rename a deleted experiment",
        );
        let restored = ctx
            .store
            .set_experiment_deleted("p", b.id, false, &"alice".into())
            .await?;
        assert_eq!(restored.deleted_at, None);
        let active = ctx
            .store
            .list_experiments("p", ViewType::ActiveOnly, &page(10, None))
            .await?;
        assert_eq!(names(active.items), strings(&["a", "b"]));
        let first = ctx
            .store
            .list_experiments("p", ViewType::All, &page(1, None))
            .await?;
        assert_eq!(names(first.items), strings(&["a"]));
        let second = ctx
            .store
            .list_experiments("p", ViewType::All, &page(1, first.next_cursor.as_deref()))
            .await?;
        assert_eq!(names(second.items), strings(&["b"]));
        assert_eq!(second.next_cursor, None);
        assert_eq!(all_ids, vec![a.id, b.id]);
        Ok(())
    }

    pub async fn experiments_deleted_rejects_new_runs(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        ctx.store
            .set_experiment_deleted("p", exp, true, &"alice".into())
            .await?;
        expect_err(
            ctx.store
                .create_run("p", exp, NewRun::default(), &"tester".into())
                .await,
            ErrorKind::Conflict,
            "run in deleted experiment",
        );
        let none = ctx
            .store
            .search_runs(
                "p",
                &RunSearch {
                    view: ViewType::All,
                    ..RunSearch::default()
                },
            )
            .await?;
        assert!(none.items.is_empty(), "no run was created");
        ctx.store
            .set_experiment_deleted("p", exp, false, &"alice".into())
            .await?;
        ctx.store
            .create_run("p", exp, NewRun::default(), &"tester".into())
            .await?;
        Ok(())
    }

    // --- runs ---------------------------------------------------------------

    pub async fn runs_create_with_tags_and_finish(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        let new = NewRun {
            name: Some("first".into()),
            start_time: Some(1_000),
            tags: vec![kv("team", "vision"), kv("git", "abc")],
        };
        let detail = ctx.store.create_run("p", exp, new, &"alice".into()).await?;
        let run = &detail.run;
        assert_eq!(run.uuid.len(), 32);
        assert!(
            run.uuid
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(
            (run.name.as_str(), run.status.as_str(), run.start_time),
            ("first", "RUNNING", 1_000)
        );
        assert_eq!(
            (run.end_time, run.experiment_id, run.created_by.as_str()),
            (None, exp, "alice")
        );
        assert_eq!(
            detail.tags,
            vec![kv("git", "abc"), kv("team", "vision")],
            "tags sorted by key"
        );
        let generated = ctx
            .store
            .create_run("p", exp, NewRun::default(), &"alice".into())
            .await?;
        assert!(
            generated.run.name.starts_with("run-"),
            "{}",
            generated.run.name
        );
        let finished = ctx
            .store
            .update_run(
                &run.uuid,
                RunUpdate {
                    status: Some("FINISHED".into()),
                    ..RunUpdate::default()
                },
                &"alice".into(),
            )
            .await?;
        assert_eq!(finished.status, "FINISHED");
        let end = finished.end_time.expect("a terminal status sets end_time");
        assert!(end >= 1_000);
        let explicit = ctx
            .store
            .update_run(
                &generated.run.uuid,
                RunUpdate {
                    status: Some("FAILED".into()),
                    end_time: Some(i64::MAX / 2),
                    ..RunUpdate::default()
                },
                &"alice".into(),
            )
            .await?;
        assert_eq!(explicit.end_time, Some(i64::MAX / 2));
        expect_err(
            ctx.store
                .update_run(
                    &run.uuid,
                    RunUpdate {
                        status: Some("DONE".into()),
                        ..RunUpdate::default()
                    },
                    &"alice".into(),
                )
                .await,
            ErrorKind::InvalidArgument,
            "unknown status",
        );
        expect_err(
            ctx.store.get_run("0123456789abcdef0123456789abcdef").await,
            ErrorKind::NotFound,
            "unknown run",
        );
        assert_eq!(ctx.store.get_run(&run.uuid).await?, finished);
        Ok(())
    }

    pub async fn runs_params_immutable_and_batches_atomic(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        let uuid = run_named(&ctx, "p", exp, "r", 1).await?.run.uuid;
        log(
            &ctx,
            &uuid,
            vec![kv("lr", "0.1"), kv("opt", "adam")],
            vec![],
            vec![],
        )
        .await?;
        log(&ctx, &uuid, vec![kv("lr", "0.1")], vec![], vec![]).await?; // same pair: a no-op
        expect_err(
            log(
                &ctx,
                &uuid,
                vec![kv("fresh", "1"), kv("lr", "0.2")],
                vec![kv("t", "x")],
                vec![point("acc", 0.5, 1)],
            )
            .await,
            ErrorKind::Conflict,
            "changing a param",
        );
        expect_err(
            log(
                &ctx,
                &uuid,
                vec![kv("dup", "1"), kv("dup", "2")],
                vec![kv("t", "y")],
                vec![point("acc", 0.7, 2)],
            )
            .await,
            ErrorKind::Conflict,
            "one key with two values in one batch",
        );
        let detail = ctx.store.get_run_detail(&uuid).await?;
        assert_eq!(
            detail.params,
            vec![kv("lr", "0.1"), kv("opt", "adam")],
            "the failed batches stored no params"
        );
        assert!(
            detail.tags.is_empty(),
            "the failed batches stored no tags: {:?}",
            detail.tags
        );
        assert!(
            detail.metrics.is_empty(),
            "the failed batches stored no metrics: {:?}",
            detail.metrics
        );
        expect_err(
            ctx.store.metric_history(&uuid, "acc", None, None).await,
            ErrorKind::NotFound,
            "no history either",
        );
        expect_err(
            log(&ctx, &uuid, vec![kv("bad$key", "1")], vec![], vec![]).await,
            ErrorKind::InvalidArgument,
            "bad key",
        );
        // A good batch with everything lands whole.
        log(
            &ctx,
            &uuid,
            vec![kv("fresh", "1"), kv("lr", "0.1")],
            vec![kv("t", "x")],
            vec![point("acc", 0.5, 1)],
        )
        .await?;
        let detail = ctx.store.get_run_detail(&uuid).await?;
        assert_eq!(
            detail.params,
            vec![kv("fresh", "1"), kv("lr", "0.1"), kv("opt", "adam")]
        );
        assert_eq!(detail.tags, vec![kv("t", "x")]);
        assert_eq!(detail.metrics.len(), 1);
        Ok(())
    }

    pub async fn runs_tags_overwrite_and_delete(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        let new = NewRun {
            tags: vec![kv("stage", "dev")],
            ..NewRun::default()
        };
        let uuid = ctx
            .store
            .create_run("p", exp, new, &"tester".into())
            .await?
            .run
            .uuid;
        log(
            &ctx,
            &uuid,
            vec![],
            vec![kv("stage", "prod"), kv("note", "multi\nline\ttext")],
            vec![],
        )
        .await?;
        assert_eq!(
            ctx.store.get_run_detail(&uuid).await?.tags,
            vec![kv("note", "multi\nline\ttext"), kv("stage", "prod")]
        );
        log(&ctx, &uuid, vec![], vec![kv("stage", "archived")], vec![]).await?;
        ctx.store.delete_tag(&uuid, "note", &"alice".into()).await?;
        assert_eq!(
            ctx.store.get_run_detail(&uuid).await?.tags,
            vec![kv("stage", "archived")]
        );
        expect_err(
            ctx.store.delete_tag(&uuid, "note", &"alice".into()).await,
            ErrorKind::NotFound,
            "deleting a missing tag",
        );
        Ok(())
    }

    pub async fn runs_non_finite_metrics_round_trip(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        let uuid = run_named(&ctx, "p", exp, "r", 1).await?.run.uuid;
        let values = [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.5,
            1e300,
            f64::MIN_POSITIVE,
        ];
        let points: Vec<MetricPoint> = values
            .iter()
            .enumerate()
            .map(|(i, v)| point("x", *v, i as i64))
            .collect();
        let singles = vec![
            point("nan", f64::NAN, 0),
            point("pinf", f64::INFINITY, 0),
            point("ninf", f64::NEG_INFINITY, 0),
        ];
        log(
            &ctx,
            &uuid,
            vec![],
            vec![],
            points.into_iter().chain(singles).collect(),
        )
        .await?;
        let history = ctx.store.metric_history(&uuid, "x", None, None).await?;
        assert_eq!(history.items.len(), values.len());
        assert!(
            history.items[0].value.is_nan(),
            "NaN stays NaN: {:?}",
            history.items[0]
        );
        for (i, (got, want)) in history.items.iter().zip(values).enumerate().skip(1) {
            assert_eq!(
                got.value.to_bits(),
                want.to_bits(),
                "value {i}: {} != {want}",
                got.value
            );
            assert_eq!(got.step, i as i64);
            assert_eq!(got.timestamp, 1_000 + i as i64);
        }
        let latest = ctx.store.latest_metrics(&uuid).await?;
        let by_key = |k: &str| {
            latest
                .iter()
                .find(|p| p.key == k)
                .unwrap_or_else(|| panic!("latest {k} missing: {latest:?}"))
                .value
        };
        assert!(by_key("nan").is_nan());
        assert_eq!(by_key("pinf"), f64::INFINITY);
        assert_eq!(by_key("ninf"), f64::NEG_INFINITY);
        assert_eq!(by_key("x"), f64::MIN_POSITIVE);
        // NaN first, numbers later, in separate calls (statements are prepared once and reused).
        for (i, v) in [f64::NAN, 2.5, f64::NAN, f64::INFINITY]
            .into_iter()
            .enumerate()
        {
            log(&ctx, &uuid, vec![], vec![], vec![point("seq", v, i as i64)]).await?;
        }
        let seq = ctx.store.metric_history(&uuid, "seq", None, None).await?;
        let got: Vec<f64> = seq.items.iter().map(|p| p.value).collect();
        assert!(
            got.len() == 4
                && got[0].is_nan()
                && got[1] == 2.5
                && got[2].is_nan()
                && got[3] == f64::INFINITY,
            "{got:?}"
        );
        Ok(())
    }

    pub async fn runs_latest_metric_is_highest_step(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        let uuid = run_named(&ctx, "p", exp, "r", 1).await?.run.uuid;
        log(
            &ctx,
            &uuid,
            vec![],
            vec![],
            vec![
                point("loss", 0.9, 5),
                point("loss", 0.5, 10),
                point("loss", 0.7, 3),
            ],
        )
        .await?;
        let latest = ctx.store.latest_metrics(&uuid).await?;
        assert_eq!(latest.len(), 1);
        assert_eq!((latest[0].value, latest[0].step), (0.5, 10));
        // A later batch with a lower step does not move it; a higher step does.
        log(&ctx, &uuid, vec![], vec![], vec![point("loss", 0.1, 2)]).await?;
        let latest = ctx.store.latest_metrics(&uuid).await?;
        assert_eq!((latest[0].value, latest[0].step), (0.5, 10));
        log(&ctx, &uuid, vec![], vec![], vec![point("loss", 0.3, 11)]).await?;
        let latest = ctx.store.latest_metrics(&uuid).await?;
        assert_eq!((latest[0].value, latest[0].step), (0.3, 11));
        let history = ctx.store.metric_history(&uuid, "loss", None, None).await?;
        assert_eq!(
            history.items.iter().map(|p| p.step).collect::<Vec<_>>(),
            vec![2, 3, 5, 10, 11],
            "history ordered by step"
        );
        Ok(())
    }

    pub async fn runs_large_batch_in_one_call(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        let uuid = run_named(&ctx, "p", exp, "r", 1).await?.run.uuid;
        let points: Vec<MetricPoint> = (0..10_000)
            .map(|i| point("loss", 1.0 / (1.0 + i as f64), i))
            .collect();
        log(&ctx, &uuid, vec![], vec![], points).await?;
        let history = ctx.store.metric_history(&uuid, "loss", None, None).await?;
        assert_eq!(history.items.len(), 10_000);
        assert_eq!(history.next_cursor, None);
        assert!(
            history
                .items
                .iter()
                .enumerate()
                .all(|(i, p)| p.step == i as i64 && p.value == 1.0 / (1.0 + i as f64))
        );
        let latest = ctx.store.latest_metrics(&uuid).await?;
        assert_eq!(latest[0].step, 9_999);
        Ok(())
    }

    pub async fn runs_deleted_rejects_log_batch(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        let uuid = run_named(&ctx, "p", exp, "r", 1).await?.run.uuid;
        let deleted = ctx
            .store
            .set_run_deleted(&uuid, true, &"alice".into())
            .await?;
        assert!(deleted.deleted_at.is_some());
        expect_err(
            log(
                &ctx,
                &uuid,
                vec![kv("a", "1")],
                vec![],
                vec![point("m", 1.0, 0)],
            )
            .await,
            ErrorKind::Conflict,
            "log to deleted run",
        );
        expect_err(
            ctx.store
                .update_run(
                    &uuid,
                    RunUpdate {
                        status: Some("FINISHED".into()),
                        ..RunUpdate::default()
                    },
                    &"alice".into(),
                )
                .await,
            ErrorKind::Conflict,
            "update a deleted run",
        );
        let active = ctx.store.search_runs("p", &RunSearch::default()).await?;
        assert!(active.items.is_empty(), "deleted runs are not active");
        let gone = ctx
            .store
            .search_runs(
                "p",
                &RunSearch {
                    view: ViewType::DeletedOnly,
                    ..RunSearch::default()
                },
            )
            .await?;
        assert_eq!(gone.items.len(), 1);
        ctx.store
            .set_run_deleted(&uuid, false, &"alice".into())
            .await?;
        log(&ctx, &uuid, vec![kv("a", "1")], vec![], vec![]).await?;
        assert_eq!(
            ctx.store.get_run_detail(&uuid).await?.params,
            vec![kv("a", "1")]
        );
        Ok(())
    }

    pub async fn runs_inputs_and_outputs_in_detail(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        ctx.store
            .create_dataset("p", "train", "", "internal", &"tester".into())
            .await?;
        ctx.store
            .create_dataset("p", "preds", "", "internal", &"tester".into())
            .await?;
        let train = upload(&ctx, "p", "train", CSV).await?.version;
        let preds = upload(&ctx, "p", "preds", "id,pred\n1,0\n").await?.version;
        let uuid = run_named(&ctx, "p", exp, "r", 1).await?.run.uuid;
        ctx.store
            .add_run_input(&uuid, train.id, "training", &"tester".into())
            .await?;
        ctx.store
            .add_run_input(&uuid, train.id, "training", &"tester".into())
            .await?; // idempotent
        ctx.store
            .add_run_output(&uuid, preds.id, &"tester".into())
            .await?;
        let detail = ctx.store.get_run_detail(&uuid).await?;
        assert_eq!(detail.inputs.len(), 1, "{:?}", detail.inputs);
        let input = &detail.inputs[0];
        assert_eq!(
            (
                input.dataset_version_id,
                input.project.as_str(),
                input.dataset.as_str(),
                input.version,
                input.context.as_str()
            ),
            (train.id, "p", "train", 1, "training")
        );
        assert_eq!(input.content_hash, train.content_hash);
        assert_eq!(detail.dataset_outputs.len(), 1);
        assert_eq!(
            (
                detail.dataset_outputs[0].dataset_version_id,
                detail.dataset_outputs[0].dataset.as_str()
            ),
            (preds.id, "preds")
        );
        expect_err(
            ctx.store
                .add_run_input(&uuid, preds.id + 1000, "training", &"tester".into())
                .await,
            ErrorKind::NotFound,
            "unknown version",
        );
        Ok(())
    }

    pub async fn runs_input_from_other_project_is_not_found(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        ctx.store
            .create_project("other", "", &"tester".into())
            .await?;
        ctx.store
            .create_dataset("other", "d", "", "internal", &"tester".into())
            .await?;
        let foreign = upload(&ctx, "other", "d", CSV).await?.version;
        let uuid = run_named(&ctx, "p", exp, "r", 1).await?.run.uuid;
        expect_err(
            ctx.store
                .add_run_input(&uuid, foreign.id, "training", &"tester".into())
                .await,
            // As for a version that does not exist: the other project is not named.
            ErrorKind::NotFound,
            "foreign input",
        );
        expect_err(
            ctx.store
                .add_run_output(&uuid, foreign.id, &"tester".into())
                .await,
            ErrorKind::NotFound,
            "foreign output",
        );
        let detail = ctx.store.get_run_detail(&uuid).await?;
        assert!(detail.inputs.is_empty() && detail.dataset_outputs.is_empty());
        Ok(())
    }

    // --- metric history and downsampling -------------------------------------

    pub async fn metrics_history_paging(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        let uuid = run_named(&ctx, "p", exp, "r", 1).await?.run.uuid;
        log(
            &ctx,
            &uuid,
            vec![],
            vec![],
            (0..25).map(|i| point("m", i as f64, i)).collect(),
        )
        .await?;
        let mut steps = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let p = ctx
                .store
                .metric_history(&uuid, "m", Some(10), cursor.as_deref())
                .await?;
            pages += 1;
            assert!(p.items.len() <= 10);
            steps.extend(p.items.iter().map(|v| v.step));
            match p.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
            assert!(pages < 10);
        }
        assert_eq!(pages, 3);
        assert_eq!(steps, (0..25).collect::<Vec<_>>());
        expect_err(
            ctx.store.metric_history(&uuid, "m", Some(0), None).await,
            ErrorKind::InvalidArgument,
            "limit 0",
        );
        expect_err(
            ctx.store
                .metric_history(&uuid, "m", Some(1), Some("junk"))
                .await,
            ErrorKind::InvalidArgument,
            "bad cursor",
        );
        expect_err(
            ctx.store.metric_history(&uuid, "nope", None, None).await,
            ErrorKind::NotFound,
            "unknown key",
        );
        Ok(())
    }

    pub async fn metrics_downsample_keeps_spikes(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        let uuid = run_named(&ctx, "p", exp, "r", 1).await?.run.uuid;
        let points: Vec<MetricPoint> = (0..1000)
            .map(|i| point("loss", if i == 500 { 1000.0 } else { i as f64 / 1000.0 }, i))
            .collect();
        log(&ctx, &uuid, vec![], vec![], points).await?;
        let buckets = ctx
            .store
            .metric_downsample(&uuid, "loss", 10, None, None)
            .await?;
        assert!(
            !buckets.is_empty() && buckets.len() <= 10,
            "{} buckets",
            buckets.len()
        );
        assert_eq!(buckets.iter().map(|b| b.count).sum::<i64>(), 1000);
        assert_eq!(buckets.first().map(|b| b.start_step), Some(0));
        assert_eq!(buckets.last().map(|b| b.end_step), Some(999));
        let spike = buckets
            .iter()
            .find(|b| b.start_step <= 500 && 500 <= b.end_step)
            .expect("a bucket holds step 500");
        assert_eq!(spike.max, 1000.0, "the spike survives as the bucket max");
        let overall_max = buckets.iter().map(|b| b.max).fold(f64::MIN, f64::max);
        assert_eq!(overall_max, 1000.0);
        for b in &buckets {
            assert!(b.start_step <= b.end_step);
            assert_eq!(
                b.first,
                if b.start_step == 500 {
                    1000.0
                } else {
                    b.start_step as f64 / 1000.0
                },
                "first of {b:?}"
            );
            assert_eq!(
                b.last,
                if b.end_step == 500 {
                    1000.0
                } else {
                    b.end_step as f64 / 1000.0
                },
                "last of {b:?}"
            );
            assert_eq!(b.count, b.end_step - b.start_step + 1);
            if b.start_step > 500 || b.end_step < 500 {
                assert_eq!(b.min, b.start_step as f64 / 1000.0);
                assert_eq!(b.max, b.end_step as f64 / 1000.0);
            }
        }
        for pair in buckets.windows(2) {
            assert!(
                pair[0].end_step < pair[1].start_step,
                "buckets are ordered and disjoint"
            );
        }
        Ok(())
    }

    pub async fn metrics_downsample_ranges_and_errors(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        let uuid = run_named(&ctx, "p", exp, "r", 1).await?.run.uuid;
        let mut points: Vec<MetricPoint> = (0..100).map(|i| point("acc", i as f64, i)).collect();
        points.push(point("acc", f64::NAN, 100));
        log(&ctx, &uuid, vec![], vec![], points).await?;
        let ranged = ctx
            .store
            .metric_downsample(&uuid, "acc", 4, Some(20), Some(39))
            .await?;
        assert_eq!(ranged.len(), 4);
        assert_eq!(
            ranged
                .iter()
                .map(|b| (b.start_step, b.end_step, b.count))
                .collect::<Vec<_>>(),
            vec![(20, 24, 5), (25, 29, 5), (30, 34, 5), (35, 39, 5)]
        );
        assert_eq!(
            (
                ranged[0].min,
                ranged[0].max,
                ranged[0].first,
                ranged[0].last
            ),
            (20.0, 24.0, 20.0, 24.0)
        );
        // More buckets than points: one per point.
        let fine = ctx
            .store
            .metric_downsample(&uuid, "acc", 1000, Some(0), Some(9))
            .await?;
        assert_eq!(fine.len(), 10);
        assert!(fine.iter().all(|b| b.count == 1 && b.min == b.max));
        // A NaN-only bucket has NaN min/max/first/last; NaN is ignored next to numbers.
        let nan = ctx
            .store
            .metric_downsample(&uuid, "acc", 1, Some(100), Some(100))
            .await?;
        assert_eq!(nan.len(), 1);
        assert!(
            nan[0].min.is_nan()
                && nan[0].max.is_nan()
                && nan[0].first.is_nan()
                && nan[0].last.is_nan(),
            "{:?}",
            nan[0]
        );
        let whole = ctx
            .store
            .metric_downsample(&uuid, "acc", 1, None, None)
            .await?;
        assert_eq!(whole.len(), 1);
        assert_eq!(
            (whole[0].count, whole[0].min, whole[0].max, whole[0].first),
            (101, 0.0, 99.0, 0.0)
        );
        assert!(whole[0].last.is_nan());
        let empty = ctx
            .store
            .metric_downsample(&uuid, "acc", 5, Some(500), Some(600))
            .await?;
        assert!(empty.is_empty(), "no points in range: {empty:?}");
        expect_err(
            ctx.store
                .metric_downsample(&uuid, "nope", 10, None, None)
                .await,
            ErrorKind::NotFound,
            "unknown key",
        );
        expect_err(
            ctx.store
                .metric_downsample(&uuid, "acc", 0, None, None)
                .await,
            ErrorKind::InvalidArgument,
            "0 buckets",
        );
        expect_err(
            ctx.store
                .metric_downsample(&uuid, "acc", verity_store::MAX_BUCKETS + 1, None, None)
                .await,
            ErrorKind::InvalidArgument,
            "too many buckets",
        );
        expect_err(
            ctx.store
                .metric_downsample(&uuid, "acc", 10, Some(50), Some(10))
                .await,
            ErrorKind::InvalidArgument,
            "end < start",
        );
        expect_err(
            ctx.store
                .metric_downsample(&uuid, "acc", 10, Some(i64::MIN), Some(i64::MAX))
                .await,
            ErrorKind::InvalidArgument,
            "a step range wider than 63 bits",
        );
        let wide = ctx
            .store
            .metric_downsample(&uuid, "acc", 3, Some(-(1 << 40)), Some(1 << 40))
            .await?;
        assert_eq!(
            wide.iter().map(|b| b.count).sum::<i64>(),
            101,
            "a wide range still sees every point: {wide:?}"
        );
        Ok(())
    }

    // --- search ---------------------------------------------------------------

    /// Three runs: r1 (adam, lr 0.1, team ML-Core, acc 0.9, trained on `train`),
    /// r2 (sgd, lr 0.01, team ml-research, acc 0.7), r3 (sgd, lr 0.1, no team, no acc, FINISHED).
    async fn search_fixture(ctx: &Ctx) -> verity_store::Result<(i64, [String; 3])> {
        let exp = project_with_experiment(ctx, "p").await?;
        ctx.store
            .create_dataset("p", "train", "", "internal", &"tester".into())
            .await?;
        let train = upload(ctx, "p", "train", CSV).await?.version;
        let r1 = run_named(ctx, "p", exp, "r1", 1_000).await?.run.uuid;
        let r2 = run_named(ctx, "p", exp, "r2", 2_000).await?.run.uuid;
        let r3 = run_named(ctx, "p", exp, "r3", 3_000).await?.run.uuid;
        log(
            ctx,
            &r1,
            vec![kv("lr", "0.1"), kv("opt", "adam")],
            vec![kv("team", "ML-Core")],
            vec![point("acc", 0.9, 0)],
        )
        .await?;
        log(
            ctx,
            &r2,
            vec![kv("lr", "0.01"), kv("opt", "sgd")],
            vec![kv("team", "ml-research")],
            vec![point("acc", 0.7, 0)],
        )
        .await?;
        log(
            ctx,
            &r3,
            vec![kv("lr", "0.1"), kv("opt", "sgd")],
            vec![],
            vec![point("loss", 0.2, 0)],
        )
        .await?;
        ctx.store
            .update_run(
                &r3,
                RunUpdate {
                    status: Some("FINISHED".into()),
                    ..RunUpdate::default()
                },
                &"alice".into(),
            )
            .await?;
        ctx.store
            .add_run_input(&r1, train.id, "training", &"tester".into())
            .await?;
        Ok((exp, [r1, r2, r3]))
    }

    async fn matching(ctx: &Ctx, filter: &str) -> verity_store::Result<Vec<String>> {
        let request = RunSearch {
            filter: Some(filter.to_string()),
            ..RunSearch::default()
        };
        let found = ctx.store.search_runs("p", &request).await?;
        Ok(sorted(run_names(&found.items)))
    }

    async fn check(ctx: &Ctx, cases: &[(&str, &[&str])]) -> TestResult {
        for (filter, want) in cases {
            let got = matching(ctx, filter)
                .await
                .map_err(|e| format!("filter {filter:?}: {e}"))?;
            assert_eq!(got, strings(want), "filter {filter:?}");
        }
        Ok(())
    }

    pub async fn search_and_or_parentheses(ctx: Ctx) -> TestResult {
        search_fixture(&ctx).await?;
        check(
            &ctx,
            &[
                ("", &["r1", "r2", "r3"]),
                ("metrics.acc > 0.8", &["r1"]),
                ("metrics.acc >= 0.7", &["r1", "r2"]),
                ("metrics.acc != 0.9", &["r2"]),
                ("params.lr = '0.1' AND params.opt = 'sgd'", &["r3"]),
                ("params.lr = '0.1' and metrics.acc < 1", &["r1"]),
                (
                    "params.opt = 'adam' OR params.opt = 'sgd' AND params.lr = '0.01'",
                    &["r1", "r2"],
                ),
                (
                    "(params.opt = 'adam' OR params.opt = 'sgd') AND params.lr = '0.01'",
                    &["r2"],
                ),
                (
                    "params.opt = 'adam' OR (params.opt = 'sgd' AND params.lr = '0.1')",
                    &["r1", "r3"],
                ),
                (
                    "((metrics.acc < 0.8) OR (metrics.loss < 1)) AND params.opt = 'sgd'",
                    &["r2", "r3"],
                ),
                ("tags.team = 'ML-Core' OR metrics.loss > 0", &["r1", "r3"]),
                ("params.missing = 'x'", &[]),
            ],
        )
        .await
    }

    pub async fn search_like_is_case_sensitive_ilike_is_not(ctx: Ctx) -> TestResult {
        search_fixture(&ctx).await?;
        check(
            &ctx,
            &[
                ("tags.team LIKE 'ML%'", &["r1"]),
                ("tags.team LIKE 'ml%'", &["r2"]),
                ("tags.team LIKE 'm_-%'", &["r2"]),
                ("tags.team ILIKE 'ml%'", &["r1", "r2"]),
                ("tags.team ILIKE 'ML-CORE'", &["r1"]),
                ("attributes.run_name LIKE 'R%'", &[]),
                ("attributes.run_name ILIKE 'R%'", &["r1", "r2", "r3"]),
                ("params.opt LIKE '%A%'", &[]),
                ("params.opt ILIKE '%A%'", &["r1"]),
                ("datasets.name LIKE 'TRAIN'", &[]),
                ("datasets.name ILIKE 'TRAIN'", &["r1"]),
            ],
        )
        .await
    }

    pub async fn search_in_is_null_attributes_datasets(ctx: Ctx) -> TestResult {
        let (exp, [r1, _r2, r3]) = search_fixture(&ctx).await?;
        check(
            &ctx,
            &[
                ("params.opt IN ('adam', 'rmsprop')", &["r1"]),
                ("params.opt NOT IN ('adam')", &["r2", "r3"]),
                ("tags.team IS NULL", &["r3"]),
                ("tags.team IS NOT NULL", &["r1", "r2"]),
                ("params.opt IS NULL", &[]),
                ("attributes.status = 'FINISHED'", &["r3"]),
                ("attributes.status != 'FINISHED'", &["r1", "r2"]),
                ("attributes.end_time IS NULL", &["r1", "r2"]),
                ("attributes.end_time IS NOT NULL", &["r3"]),
                ("attributes.run_name = 'r2'", &["r2"]),
                ("attributes.user_id = 'tester'", &["r1", "r2", "r3"]),
                ("attributes.start_time >= 2000", &["r2", "r3"]),
                (
                    "attributes.start_time < 2000 OR attributes.status = 'FINISHED'",
                    &["r1", "r3"],
                ),
                (
                    &format!("attributes.experiment_id = {exp}"),
                    &["r1", "r2", "r3"],
                ),
                (
                    &format!("attributes.experiment_id IN ({})", exp + 1000),
                    &[],
                ),
                (&format!("attributes.run_id = '{r1}'"), &["r1"]),
                (
                    &format!("attributes.run_id IN ('{r1}', '{r3}')"),
                    &["r1", "r3"],
                ),
                ("datasets.name = 'train'", &["r1"]),
                ("datasets.context = 'training'", &["r1"]),
                ("datasets.name IN ('eval', 'test')", &[]),
            ],
        )
        .await?;
        // Restricting to experiments.
        let other = ctx
            .store
            .create_experiment("p", "other", "", &"tester".into())
            .await?;
        run_named(&ctx, "p", other.id, "r4", 4_000).await?;
        let only_other = RunSearch {
            experiment_ids: vec![other.id],
            ..RunSearch::default()
        };
        assert_eq!(
            run_names(&ctx.store.search_runs("p", &only_other).await?.items),
            strings(&["r4"])
        );
        let both = RunSearch {
            experiment_ids: vec![exp, other.id],
            filter: Some("params.opt = 'sgd'".into()),
            ..RunSearch::default()
        };
        assert_eq!(
            sorted(run_names(&ctx.store.search_runs("p", &both).await?.items)),
            strings(&["r2", "r3"])
        );
        // Details come with the results.
        let found = ctx
            .store
            .search_runs(
                "p",
                &RunSearch {
                    filter: Some("metrics.acc > 0.8".into()),
                    ..RunSearch::default()
                },
            )
            .await?;
        assert_eq!(
            found.items[0].params,
            vec![kv("lr", "0.1"), kv("opt", "adam")]
        );
        assert_eq!(found.items[0].inputs.len(), 1);
        Ok(())
    }

    pub async fn search_order_by_metric_missing_last(ctx: Ctx) -> TestResult {
        search_fixture(&ctx).await?;
        let order = |clause: &str| RunSearch {
            order_by: vec![clause.to_string()],
            ..RunSearch::default()
        };
        let desc = ctx
            .store
            .search_runs("p", &order("metrics.acc DESC"))
            .await?;
        assert_eq!(
            run_names(&desc.items),
            strings(&["r1", "r2", "r3"]),
            "runs lacking the metric come last"
        );
        let asc = ctx
            .store
            .search_runs("p", &order("metrics.acc ASC"))
            .await?;
        assert_eq!(
            run_names(&asc.items),
            strings(&["r2", "r1", "r3"]),
            "also when ascending"
        );
        let by_param = RunSearch {
            order_by: vec!["params.lr DESC".into(), "attributes.start_time ASC".into()],
            ..RunSearch::default()
        };
        assert_eq!(
            run_names(&ctx.store.search_runs("p", &by_param).await?.items),
            strings(&["r1", "r3", "r2"])
        );
        let default = ctx.store.search_runs("p", &RunSearch::default()).await?;
        assert_eq!(
            run_names(&default.items),
            strings(&["r3", "r2", "r1"]),
            "newest first by default"
        );
        let filtered = RunSearch {
            filter: Some("params.opt = 'sgd'".into()),
            order_by: vec!["tags.team DESC".into()],
            ..RunSearch::default()
        };
        assert_eq!(
            run_names(&ctx.store.search_runs("p", &filtered).await?.items),
            strings(&["r2", "r3"])
        );
        let bad = expect_err(
            ctx.store
                .search_runs("p", &order("metrics.acc SIDEWAYS"))
                .await,
            ErrorKind::InvalidArgument,
            "bad order",
        );
        assert!(bad.to_string().contains("position 12"), "{bad}");
        Ok(())
    }

    pub async fn search_pagination(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        for i in 0..5 {
            let uuid = run_named(&ctx, "p", exp, &format!("r{i}"), 1_000 + i)
                .await?
                .run
                .uuid;
            log(
                &ctx,
                &uuid,
                vec![],
                vec![],
                vec![point("score", i as f64, 0)],
            )
            .await?;
        }
        let mut names = Vec::new();
        let mut cursor: Option<String> = None;
        let mut sizes = Vec::new();
        loop {
            let request = RunSearch {
                order_by: vec!["metrics.score DESC".into()],
                page: page(2, cursor.as_deref()),
                ..RunSearch::default()
            };
            let p = ctx.store.search_runs("p", &request).await?;
            sizes.push(p.items.len());
            names.extend(run_names(&p.items));
            match p.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
            assert!(sizes.len() < 10);
        }
        assert_eq!(sizes, vec![2, 2, 1]);
        assert_eq!(names, strings(&["r4", "r3", "r2", "r1", "r0"]));
        Ok(())
    }

    /// The largest searches the store accepts run on both backends; one more is a clear 400.
    pub async fn search_at_its_limits(ctx: Ctx) -> TestResult {
        search_fixture(&ctx).await?;
        // 70 metric comparisons at the top level (more than SQLite's 64-table join limit) and
        // 10 order clauses on metrics, params and tags: r1 is the only run with acc = 0.9.
        let mut terms: Vec<String> = (0..70).map(|i| format!("metrics.acc > -{i}")).collect();
        terms.extend((0..29).map(|i| format!("params.lr != 'x{i}'")));
        terms.push(format!(
            "params.opt IN ({})",
            (0..9_000)
                .map(|i| format!("'o{i}'"))
                .chain(["'adam'".to_string()])
                .collect::<Vec<_>>()
                .join(",")
        ));
        let order_by: Vec<String> = (0..10)
            .map(|i| match i % 3 {
                0 => format!("metrics.m{i} DESC"),
                1 => format!("params.p{i}"),
                _ => format!("tags.t{i} DESC"),
            })
            .collect();
        let request = RunSearch {
            filter: Some(terms.join(" and ")),
            order_by: order_by.clone(),
            experiment_ids: (1..=1000).collect(),
            ..RunSearch::default()
        };
        let found = ctx.store.search_runs("p", &request).await?;
        assert_eq!(run_names(&found.items), vec!["r1".to_string()]);
        terms.push("params.lr = '0.1'".into());
        let too_many = RunSearch {
            filter: Some(terms.join(" and ")),
            ..RunSearch::default()
        };
        let e = expect_err(
            ctx.store.search_runs("p", &too_many).await,
            ErrorKind::InvalidArgument,
            "101 comparisons",
        );
        assert!(e.to_string().contains("at most 100 comparisons"), "{e}");
        let mut eleven = order_by;
        eleven.push("metrics.acc".into());
        let request = RunSearch {
            order_by: eleven,
            ..RunSearch::default()
        };
        expect_err(
            ctx.store.search_runs("p", &request).await,
            ErrorKind::InvalidArgument,
            "11 order clauses",
        );
        let request = RunSearch {
            experiment_ids: (1..=1001).collect(),
            ..RunSearch::default()
        };
        expect_err(
            ctx.store.search_runs("p", &request).await,
            ErrorKind::InvalidArgument,
            "1001 experiment ids",
        );
        Ok(())
    }

    pub async fn search_malformed_filter_and_injection(ctx: Ctx) -> TestResult {
        search_fixture(&ctx).await?;
        let search = |filter: &str| RunSearch {
            filter: Some(filter.to_string()),
            ..RunSearch::default()
        };
        let e = expect_err(
            ctx.store.search_runs("p", &search("metrics.acc >")).await,
            ErrorKind::InvalidArgument,
            "malformed",
        );
        assert!(e.to_string().contains("position 13"), "{e}");
        let e = expect_err(
            ctx.store
                .search_runs("p", &search("params.x = '1' OR 1=1 --"))
                .await,
            ErrorKind::InvalidArgument,
            "injection",
        );
        assert!(e.to_string().contains("position 18"), "{e}");
        let e = expect_err(
            ctx.store
                .search_runs("p", &search("params.x = '1'; DROP TABLE runs"))
                .await,
            ErrorKind::InvalidArgument,
            "statement injection",
        );
        assert!(e.to_string().contains("position 14"), "{e}");
        // Quotes inside a value are data, not SQL.
        assert_eq!(
            matching(&ctx, "params.opt = 'sgd'' OR ''1''=''1'").await?,
            Vec::<String>::new()
        );
        assert_eq!(
            matching(&ctx, "params.`opt' OR 1=1 --` = 'x'").await?,
            Vec::<String>::new()
        );
        // The tables are intact.
        assert_eq!(matching(&ctx, "").await?, strings(&["r1", "r2", "r3"]));
        assert_eq!(
            ctx.store.list_projects(&page(10, None)).await?.items.len(),
            1
        );
        Ok(())
    }

    // --- artifacts ------------------------------------------------------------

    async fn put(
        ctx: &Ctx,
        uuid: &str,
        path: &str,
        bytes: &[u8],
    ) -> verity_store::Result<verity_store::model::StoredFile> {
        let staged = stage(ctx, bytes.to_vec()).await?;
        ctx.store
            .put_artifact(uuid, path, staged, &"tester".into())
            .await
    }

    pub async fn artifacts_put_list_get(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        let uuid = run_named(&ctx, "p", exp, "r", 1).await?.run.uuid;
        let stored = put(&ctx, &uuid, "model.pkl", b"weights").await?;
        assert_eq!((stored.path.as_str(), stored.byte_size), ("model.pkl", 7));
        assert_eq!(stored.content_hash, sha256_hex(b"weights"));
        put(&ctx, &uuid, "data/train.csv", b"a,b\n1,2\n").await?;
        put(&ctx, &uuid, "data/sub/deep.txt", b"deep").await?;
        put(&ctx, &uuid, "data2.txt", b"sibling with a common prefix").await?;
        let root = ctx.store.list_artifacts(&uuid, None).await?;
        let summary = |entries: &[verity_store::ArtifactEntry]| {
            entries
                .iter()
                .map(|e| (e.path.clone(), e.is_dir, e.byte_size))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            summary(&root),
            vec![
                ("data".to_string(), true, None),
                ("data2.txt".to_string(), false, Some(28)),
                ("model.pkl".to_string(), false, Some(7)),
            ]
        );
        let data = ctx.store.list_artifacts(&uuid, Some("data")).await?;
        assert_eq!(
            summary(&data),
            vec![
                ("data/sub".to_string(), true, None),
                ("data/train.csv".to_string(), false, Some(8))
            ]
        );
        let sub = ctx.store.list_artifacts(&uuid, Some("data/sub")).await?;
        assert_eq!(
            summary(&sub),
            vec![("data/sub/deep.txt".to_string(), false, Some(4))]
        );
        assert!(
            ctx.store
                .list_artifacts(&uuid, Some("nothing"))
                .await?
                .is_empty()
        );
        let files = ctx.store.list_artifact_files(&uuid, None).await?;
        assert_eq!(
            files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
            vec![
                "data/sub/deep.txt",
                "data/train.csv",
                "data2.txt",
                "model.pkl"
            ]
        );
        let got = ctx.store.get_artifact(&uuid, "data/train.csv").await?;
        assert_eq!(got.content_hash, sha256_hex(b"a,b\n1,2\n"));
        assert_eq!(blob_bytes(&ctx, &got.content_hash).await?, b"a,b\n1,2\n");
        expect_err(
            ctx.store.get_artifact(&uuid, "data").await,
            ErrorKind::NotFound,
            "a directory is not a file",
        );
        expect_err(
            ctx.store.get_artifact(&uuid, "missing.bin").await,
            ErrorKind::NotFound,
            "missing artifact",
        );
        Ok(())
    }

    pub async fn artifacts_are_immutable(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        let uuid = run_named(&ctx, "p", exp, "r", 1).await?.run.uuid;
        let first = put(&ctx, &uuid, "dir/model.bin", b"v1").await?;
        let again = put(&ctx, &uuid, "dir/model.bin", b"v1").await?;
        assert_eq!(again.content_hash, first.content_hash);
        expect_err(
            put(&ctx, &uuid, "dir/model.bin", b"v2").await,
            ErrorKind::Conflict,
            "same path, other bytes",
        );
        expect_err(
            put(&ctx, &uuid, "dir/model.bin/inner.txt", b"x").await,
            ErrorKind::Conflict,
            "file under a file",
        );
        expect_err(
            put(&ctx, &uuid, "dir", b"x").await,
            ErrorKind::Conflict,
            "file where a directory is",
        );
        assert_eq!(
            ctx.store
                .get_artifact(&uuid, "dir/model.bin")
                .await?
                .content_hash,
            sha256_hex(b"v1")
        );
        assert_eq!(ctx.store.list_artifact_files(&uuid, None).await?.len(), 1);
        assert!(
            !ctx.store.blobs().contains(&sha256_hex(b"v2")).await?,
            "rejected bytes are not committed"
        );
        assert_eq!(
            files_under(&ctx.blob_dir).len(),
            1,
            "{:?}",
            files_under(&ctx.blob_dir)
        );
        ctx.store
            .set_run_deleted(&uuid, true, &"alice".into())
            .await?;
        expect_err(
            put(&ctx, &uuid, "late.txt", b"x").await,
            ErrorKind::Conflict,
            "artifact on a deleted run",
        );
        Ok(())
    }

    pub async fn artifacts_invalid_paths(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        let uuid = run_named(&ctx, "p", exp, "r", 1).await?.run.uuid;
        for bad in ["../x", "/abs", "a\0b", "a/../b", "a//b", "a\\b", "", "dir/"] {
            expect_err(
                put(&ctx, &uuid, bad, b"x").await,
                ErrorKind::InvalidArgument,
                &format!("path {bad:?}"),
            );
        }
        expect_err(
            ctx.store.get_artifact(&uuid, "../x").await,
            ErrorKind::InvalidArgument,
            "get ../x",
        );
        expect_err(
            ctx.store.list_artifacts(&uuid, Some("/abs")).await,
            ErrorKind::InvalidArgument,
            "list /abs",
        );
        assert!(ctx.store.list_artifact_files(&uuid, None).await?.is_empty());
        assert_eq!(files_under(&ctx.blob_dir), Vec::<PathBuf>::new());
        Ok(())
    }

    // --- models -----------------------------------------------------------------

    async fn upload_version(
        ctx: &Ctx,
        model: &str,
        bytes: &[u8],
        run_id: Option<String>,
    ) -> verity_store::Result<verity_store::model::ModelVersion> {
        let staged = stage(ctx, bytes.to_vec()).await?;
        let new = NewModelVersion {
            source: ModelSource::Upload {
                staged,
                file_name: "model.onnx".into(),
                run_id,
            },
            description: String::new(),
            tags: vec![],
        };
        ctx.store
            .create_model_version("p", model, new, &"tester".into())
            .await
    }

    pub async fn models_version_from_run_artifact_directory(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        let uuid = run_named(&ctx, "p", exp, "r", 1).await?.run.uuid;
        put(&ctx, &uuid, "model/weights.bin", b"0123456789").await?;
        put(&ctx, &uuid, "model/conf/config.json", b"{}").await?;
        put(&ctx, &uuid, "model2/other.bin", b"not part of it").await?;
        put(&ctx, &uuid, "notes.txt", b"hi").await?;
        let model = ctx
            .store
            .create_model("p", "classifier", "a model", &"alice".into())
            .await?;
        assert_eq!(
            (model.name.as_str(), model.latest_version),
            ("classifier", 0)
        );
        expect_err(
            ctx.store
                .create_model("p", "classifier", "", &"bob".into())
                .await,
            ErrorKind::AlreadyExists,
            "duplicate model",
        );
        let new = NewModelVersion {
            source: ModelSource::RunArtifact {
                run_id: uuid.clone(),
                path: "model".into(),
            },
            description: "from the run".into(),
            tags: vec![kv("framework", "torch")],
        };
        let mv = ctx
            .store
            .create_model_version("p", "classifier", new, &"alice".into())
            .await?;
        assert_eq!(mv.version, 1);
        assert_eq!(mv.source_run_id.as_deref(), Some(uuid.as_str()));
        assert_eq!(mv.source_path.as_deref(), Some("model"));
        assert_eq!(mv.status, "READY");
        assert_eq!(mv.tags, vec![kv("framework", "torch")]);
        let files: Vec<(String, String, i64)> = mv
            .files
            .iter()
            .map(|f| (f.path.clone(), f.content_hash.clone(), f.byte_size))
            .collect();
        assert_eq!(
            files,
            vec![
                ("conf/config.json".to_string(), sha256_hex(b"{}"), 2),
                ("weights.bin".to_string(), sha256_hex(b"0123456789"), 10),
            ]
        );
        // A single file keeps its name.
        let single = NewModelVersion {
            source: ModelSource::RunArtifact {
                run_id: uuid.clone(),
                path: "notes.txt".into(),
            },
            description: String::new(),
            tags: vec![],
        };
        let v2 = ctx
            .store
            .create_model_version("p", "classifier", single, &"alice".into())
            .await?;
        assert_eq!(
            v2.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
            vec!["notes.txt"]
        );
        let missing = NewModelVersion {
            source: ModelSource::RunArtifact {
                run_id: uuid.clone(),
                path: "nothing".into(),
            },
            description: String::new(),
            tags: vec![],
        };
        expect_err(
            ctx.store
                .create_model_version("p", "classifier", missing, &"alice".into())
                .await,
            ErrorKind::NotFound,
            "missing artifact",
        );
        // Lineage run -> model version.
        let detail = ctx.store.get_run_detail(&uuid).await?;
        assert_eq!(
            detail
                .model_outputs
                .iter()
                .map(|o| (o.model_version_id, o.model.as_str(), o.version))
                .collect::<Vec<_>>(),
            vec![(mv.id, "classifier", 1), (v2.id, "classifier", 2)]
        );
        let graph = ctx
            .store
            .lineage(
                NodeKind::ModelVersion,
                &mv.id.to_string(),
                Direction::Upstream,
                1,
            )
            .await?;
        assert_eq!(graph.edges.len(), 1);
        assert_eq!(
            (graph.edges[0].from_kind, graph.edges[0].from_id.as_str()),
            (NodeKind::Run, uuid.as_str())
        );
        assert_eq!(graph.edges[0].relation, "produced");
        assert_eq!(
            ctx.store.get_model("p", "classifier").await?.latest_version,
            2
        );
        assert_eq!(ctx.store.get_model_version("p", "classifier", 1).await?, mv);
        let listed = ctx
            .store
            .list_model_versions("p", "classifier", &page(10, None))
            .await?;
        assert_eq!(
            listed.items.iter().map(|v| v.version).collect::<Vec<_>>(),
            vec![1, 2]
        );
        Ok(())
    }

    /// Listings load many models and versions at once; each must keep its own tags, aliases,
    /// files and latest version.
    pub async fn models_lists_carry_each_items_own_details(ctx: Ctx) -> TestResult {
        ctx.store.create_project("p", "", &"tester".into()).await?;
        for (model, count) in [("a", 3), ("b", 1), ("c", 0)] {
            ctx.store
                .create_model("p", model, "", &"tester".into())
                .await?;
            for v in 1..=count {
                upload_version(&ctx, model, format!("{model}{v}").as_bytes(), None).await?;
                ctx.store
                    .update_model_version(
                        "p",
                        model,
                        v,
                        Some(&format!("{model} v{v}")),
                        &[kv("n", &v.to_string())],
                        &"tester".into(),
                    )
                    .await?;
            }
        }
        ctx.store
            .set_alias("p", "a", "prod", VersionRef::Number(2), &"tester".into())
            .await?;
        ctx.store
            .set_alias("p", "a", "next", VersionRef::Number(3), &"tester".into())
            .await?;
        ctx.store
            .set_alias("p", "b", "prod", VersionRef::Number(1), &"tester".into())
            .await?;
        let models = ctx.store.list_models("p", &page(10, None)).await?.items;
        let summary: Vec<_> = models
            .iter()
            .map(|m| {
                (
                    m.name.as_str(),
                    m.latest_version,
                    m.aliases
                        .iter()
                        .map(|a| (a.alias.as_str(), a.version))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("a", 3, vec![("next", 3), ("prod", 2)]),
                ("b", 1, vec![("prod", 1)]),
                ("c", 0, vec![])
            ]
        );
        let versions = ctx
            .store
            .list_model_versions("p", "a", &page(10, None))
            .await?
            .items;
        assert_eq!(versions.len(), 3);
        for (i, v) in versions.iter().enumerate() {
            let n = i64::try_from(i)? + 1;
            assert_eq!(v.version, n);
            assert_eq!(v.description, format!("a v{n}"));
            assert_eq!(v.tags, vec![kv("n", &n.to_string())]);
            assert_eq!(v.files.len(), 1);
            assert_eq!(
                v.files[0].content_hash,
                sha256_hex(format!("a{n}").as_bytes())
            );
            assert_eq!(*v, ctx.store.get_model_version("p", "a", n).await?);
        }
        assert_eq!(versions[0].aliases, Vec::<String>::new());
        assert_eq!(versions[1].aliases, vec!["prod".to_string()]);
        assert_eq!(versions[2].aliases, vec!["next".to_string()]);
        Ok(())
    }

    pub async fn models_version_from_upload(ctx: Ctx) -> TestResult {
        ctx.store.create_project("p", "", &"tester".into()).await?;
        ctx.store
            .create_model("p", "m", "", &"tester".into())
            .await?;
        let mv = upload_version(&ctx, "m", b"onnx bytes", None).await?;
        assert_eq!(mv.version, 1);
        assert_eq!(mv.source_run_id, None);
        assert_eq!(mv.files.len(), 1);
        assert_eq!(
            (mv.files[0].path.as_str(), mv.files[0].byte_size),
            ("model.onnx", 10)
        );
        assert_eq!(mv.files[0].content_hash, sha256_hex(b"onnx bytes"));
        assert_eq!(
            blob_bytes(&ctx, &mv.files[0].content_hash).await?,
            b"onnx bytes"
        );
        let v2 = upload_version(&ctx, "m", b"onnx bytes", None).await?;
        assert_eq!(v2.version, 2, "model versions are not deduplicated");
        assert_eq!(files_under(&ctx.blob_dir).len(), 1, "but the bytes are");
        expect_err(
            upload_version(&ctx, "nope", b"x", None).await,
            ErrorKind::NotFound,
            "unknown model",
        );
        let updated = ctx
            .store
            .update_model_version(
                "p",
                "m",
                1,
                Some("described"),
                &[kv("stage", "qa")],
                &"tester".into(),
            )
            .await?;
        assert_eq!(
            (updated.description.as_str(), updated.tags.clone()),
            ("described", vec![kv("stage", "qa")])
        );
        // A run of another project cannot produce a version, and its bytes are not kept.
        let foreign_exp = project_with_experiment(&ctx, "q").await?;
        let foreign = run_named(&ctx, "q", foreign_exp, "r", 1).await?.run.uuid;
        expect_err(
            upload_version(&ctx, "m", b"foreign bytes", Some(foreign.clone())).await,
            ErrorKind::Conflict,
            "run of another project",
        );
        assert!(
            !ctx.store
                .blobs()
                .contains(&sha256_hex(b"foreign bytes"))
                .await?
        );
        assert_eq!(
            files_under(&ctx.blob_dir).len(),
            1,
            "{:?}",
            files_under(&ctx.blob_dir)
        );
        put(&ctx, &foreign, "model.bin", b"artifact").await?;
        let from_artifact = NewModelVersion {
            source: ModelSource::RunArtifact {
                run_id: foreign,
                path: "model.bin".into(),
            },
            description: String::new(),
            tags: vec![],
        };
        expect_err(
            ctx.store
                .create_model_version("p", "m", from_artifact, &"tester".into())
                .await,
            ErrorKind::Conflict,
            "artifact of a run of another project",
        );
        assert_eq!(ctx.store.get_model("p", "m").await?.latest_version, 2);
        Ok(())
    }

    pub async fn models_alias_set_move_delete_and_history(ctx: Ctx) -> TestResult {
        ctx.store.create_project("p", "", &"tester".into()).await?;
        ctx.store
            .create_model("p", "m", "", &"tester".into())
            .await?;
        let v1 = upload_version(&ctx, "m", b"one", None).await?;
        let v2 = upload_version(&ctx, "m", b"two", None).await?;
        let set = ctx
            .store
            .set_alias("p", "m", "champion", VersionRef::Number(1), &"alice".into())
            .await?;
        assert_eq!(
            (set.id, set.version, set.aliases.clone()),
            (v1.id, 1, strings(&["champion"]))
        );
        // Setting it to the same version again records nothing.
        ctx.store
            .set_alias("p", "m", "champion", VersionRef::Number(1), &"alice".into())
            .await?;
        let moved = ctx
            .store
            .set_alias("p", "m", "champion", VersionRef::Id(v2.id), &"bob".into())
            .await?;
        assert_eq!(moved.version, 2);
        let model = ctx.store.get_model("p", "m").await?;
        assert_eq!(
            model
                .aliases
                .iter()
                .map(|a| (a.alias.as_str(), a.version, a.set_by.as_str()))
                .collect::<Vec<_>>(),
            vec![("champion", 2, "bob")]
        );
        assert!(
            ctx.store
                .get_model_version("p", "m", 1)
                .await?
                .aliases
                .is_empty()
        );
        assert_eq!(
            ctx.store
                .resolve_alias("p", "m", "champion", None)
                .await?
                .id,
            v2.id
        );
        ctx.store
            .delete_alias("p", "m", "champion", &"carol".into())
            .await?;
        expect_err(
            ctx.store.resolve_alias("p", "m", "champion", None).await,
            ErrorKind::NotFound,
            "deleted alias",
        );
        expect_err(
            ctx.store
                .delete_alias("p", "m", "champion", &"carol".into())
                .await,
            ErrorKind::NotFound,
            "delete twice",
        );
        assert!(ctx.store.get_model("p", "m").await?.aliases.is_empty());
        let history = ctx
            .store
            .alias_history("p", "m", Some("champion"), &page(10, None))
            .await?;
        let events: Vec<_> = history
            .items
            .iter()
            .map(|e| {
                (
                    e.alias.as_str(),
                    e.old_version,
                    e.new_version,
                    e.actor.as_str(),
                )
            })
            .collect();
        assert_eq!(
            events,
            vec![
                ("champion", None, Some(1), "alice"),
                ("champion", Some(1), Some(2), "bob"),
                ("champion", Some(2), None, "carol")
            ]
        );
        assert!(history.items.windows(2).all(|w| w[0].at <= w[1].at));
        ctx.store
            .set_alias("p", "m", "staging", VersionRef::Number(1), &"dave".into())
            .await?;
        let everything = ctx
            .store
            .alias_history("p", "m", None, &page(10, None))
            .await?;
        assert_eq!(everything.items.len(), 4);
        let only_staging = ctx
            .store
            .alias_history("p", "m", Some("staging"), &page(10, None))
            .await?;
        assert_eq!(only_staging.items.len(), 1);
        let first_page = ctx
            .store
            .alias_history("p", "m", None, &page(3, None))
            .await?;
        assert_eq!(first_page.items.len(), 3);
        let rest = ctx
            .store
            .alias_history("p", "m", None, &page(3, first_page.next_cursor.as_deref()))
            .await?;
        assert_eq!(
            rest.items
                .iter()
                .map(|e| e.alias.as_str())
                .collect::<Vec<_>>(),
            vec!["staging"]
        );
        Ok(())
    }

    pub async fn promotion_gates_reviews_and_retirement(ctx: Ctx) -> TestResult {
        use serde_json::json;
        use verity_store::promotion::Decision;
        let owner: verity_store::Actor = "olivia".into();
        ctx.store.create_project("p", "", &owner).await?;
        ctx.store.create_model("p", "m", "", &owner).await?;
        ctx.store.create_model("p", "other", "", &owner).await?;
        upload_version(&ctx, "m", b"one", None).await?;
        upload_version(&ctx, "m", b"two", None).await?;

        // Gates: project-wide and per model; the model's own wins.
        assert!(ctx.store.gate_for("p", "m", "production").await?.is_none());
        let wide = ctx
            .store
            .set_gate("p", None, "production", &json!({"approvals": 1}), &owner)
            .await?;
        assert_eq!(wide.model, None);
        let own = ctx
            .store
            .set_gate(
                "p",
                Some("m"),
                "production",
                &json!({"approvals": 2}),
                &owner,
            )
            .await?;
        assert_eq!(own.model.as_deref(), Some("m"));
        let replaced = ctx
            .store
            .set_gate(
                "p",
                Some("m"),
                "production",
                &json!({"approvals": 3}),
                &owner,
            )
            .await?;
        assert_eq!(replaced.id, own.id, "replacing keeps the gate");
        let found = ctx.store.gate_for("p", "m", "production").await?;
        assert_eq!(found.map(|g| g.requirements), Some(json!({"approvals": 3})));
        let fallback = ctx.store.gate_for("p", "other", "production").await?;
        assert_eq!(fallback.map(|g| g.id), Some(wide.id));
        assert_eq!(ctx.store.gates("p").await?.len(), 2);
        let bad_alias = ctx
            .store
            .set_gate("p", None, "", &json!({}), &owner)
            .await
            .unwrap_err();
        assert_eq!(bad_alias.kind(), ErrorKind::InvalidArgument);
        let no_model = ctx
            .store
            .set_gate("p", Some("nope"), "production", &json!({}), &owner)
            .await
            .unwrap_err();
        assert_eq!(no_model.kind(), ErrorKind::NotFound);
        ctx.store
            .delete_gate("p", None, "production", &owner)
            .await?;
        let gone = ctx
            .store
            .delete_gate("p", None, "production", &owner)
            .await
            .unwrap_err();
        assert_eq!(gone.kind(), ErrorKind::NotFound);

        // Reviews: once per reviewer, version and alias; a comment is required.
        let bob: verity_store::Actor = "bob".into();
        let approved = ctx
            .store
            .add_review(
                "p",
                "m",
                2,
                "production",
                Decision::Approve,
                "looks right",
                &bob,
            )
            .await?;
        assert_eq!(approved.reviewer, "bob");
        let twice = ctx
            .store
            .add_review(
                "p",
                "m",
                2,
                "production",
                Decision::Reject,
                "changed my mind",
                &bob,
            )
            .await
            .unwrap_err();
        assert_eq!(twice.kind(), ErrorKind::Conflict);
        ctx.store
            .add_review("p", "m", 2, "staging", Decision::Reject, "not yet", &bob)
            .await?;
        let empty = ctx
            .store
            .add_review(
                "p",
                "m",
                2,
                "production",
                Decision::Approve,
                " ",
                &"carol".into(),
            )
            .await
            .unwrap_err();
        assert_eq!(empty.kind(), ErrorKind::InvalidArgument);
        let reviews = ctx.store.reviews("p", "m", 2).await?;
        assert_eq!(reviews.len(), 2);
        assert_eq!(reviews[1].decision, Decision::Reject);

        // Evidence is kept with the alias move.
        let verdict = json!({"satisfied": true, "checks": []});
        ctx.store
            .set_alias_with_evidence(
                "p",
                "m",
                "production",
                VersionRef::Number(1),
                Some(&verdict),
                &owner,
            )
            .await?;
        let history = ctx
            .store
            .alias_history("p", "m", Some("production"), &PageRequest::new(None, None)?)
            .await?;
        assert_eq!(history.items[0].evidence, Some(verdict));

        // Retirement: not while an alias points at it, once only, with a reason; a retired
        // version takes no alias.
        let held = ctx
            .store
            .retire_version("p", "m", 1, "superseded", &owner)
            .await
            .unwrap_err();
        assert_eq!(held.kind(), ErrorKind::Conflict);
        assert!(held.to_string().contains("@production"), "{held}");
        let no_reason = ctx
            .store
            .retire_version("p", "m", 2, "", &owner)
            .await
            .unwrap_err();
        assert_eq!(no_reason.kind(), ErrorKind::InvalidArgument);
        let retired = ctx
            .store
            .retire_version("p", "m", 2, "leaks the label", &owner)
            .await?;
        assert_eq!(retired.retired_by, "olivia");
        assert_eq!(
            ctx.store.get_model_version("p", "m", 2).await?.retired,
            Some(retired.clone())
        );
        assert_eq!(ctx.store.retirement("p", "m", 2).await?, Some(retired));
        let again = ctx
            .store
            .retire_version("p", "m", 2, "again", &owner)
            .await
            .unwrap_err();
        assert_eq!(again.kind(), ErrorKind::Conflict);
        let promoted = ctx
            .store
            .set_alias("p", "m", "production", VersionRef::Number(2), &owner)
            .await
            .unwrap_err();
        assert_eq!(promoted.kind(), ErrorKind::Conflict);
        assert!(promoted.to_string().contains("retired"), "{promoted}");
        Ok(())
    }

    pub async fn models_resolve_alias_at_past_time(ctx: Ctx) -> TestResult {
        ctx.store.create_project("p", "", &"tester".into()).await?;
        ctx.store
            .create_model("p", "m", "", &"tester".into())
            .await?;
        let v1 = upload_version(&ctx, "m", b"one", None).await?;
        let v2 = upload_version(&ctx, "m", b"two", None).await?;
        let before = verity_store::now_ms();
        tokio::time::sleep(Duration::from_millis(5)).await;
        ctx.store
            .set_alias("p", "m", "prod", VersionRef::Number(1), &"alice".into())
            .await?;
        tokio::time::sleep(Duration::from_millis(5)).await;
        let t1 = verity_store::now_ms();
        tokio::time::sleep(Duration::from_millis(5)).await;
        ctx.store
            .set_alias("p", "m", "prod", VersionRef::Number(2), &"alice".into())
            .await?;
        tokio::time::sleep(Duration::from_millis(5)).await;
        let t2 = verity_store::now_ms();
        tokio::time::sleep(Duration::from_millis(5)).await;
        ctx.store
            .delete_alias("p", "m", "prod", &"alice".into())
            .await?;
        tokio::time::sleep(Duration::from_millis(5)).await;
        let t3 = verity_store::now_ms();
        expect_err(
            ctx.store
                .resolve_alias("p", "m", "prod", Some(before))
                .await,
            ErrorKind::NotFound,
            "before it existed",
        );
        assert_eq!(
            ctx.store
                .resolve_alias("p", "m", "prod", Some(t1))
                .await?
                .id,
            v1.id
        );
        assert_eq!(
            ctx.store
                .resolve_alias("p", "m", "prod", Some(t2))
                .await?
                .id,
            v2.id
        );
        expect_err(
            ctx.store.resolve_alias("p", "m", "prod", Some(t3)).await,
            ErrorKind::NotFound,
            "after deletion",
        );
        let history = ctx
            .store
            .alias_history("p", "m", None, &page(10, None))
            .await?;
        assert_eq!(
            ctx.store
                .resolve_alias("p", "m", "prod", Some(history.items[0].at))
                .await?
                .version,
            1,
            "inclusive at the move"
        );
        assert_eq!(
            ctx.store
                .resolve_alias("p", "m", "prod", Some(history.items[1].at))
                .await?
                .version,
            2
        );
        Ok(())
    }

    pub async fn models_alias_errors(ctx: Ctx) -> TestResult {
        ctx.store.create_project("p", "", &"tester".into()).await?;
        ctx.store
            .create_model("p", "m", "", &"tester".into())
            .await?;
        ctx.store
            .create_model("p", "other", "", &"tester".into())
            .await?;
        upload_version(&ctx, "m", b"one", None).await?;
        let foreign = upload_version(&ctx, "other", b"two", None).await?;
        expect_err(
            ctx.store
                .set_alias(
                    "p",
                    "m",
                    "prod",
                    VersionRef::Id(foreign.id),
                    &"alice".into(),
                )
                .await,
            ErrorKind::Conflict,
            "foreign version id",
        );
        for reserved in ["latest", "LATEST", "v3"] {
            expect_err(
                ctx.store
                    .set_alias("p", "m", reserved, VersionRef::Number(1), &"alice".into())
                    .await,
                ErrorKind::InvalidArgument,
                &format!("reserved alias {reserved}"),
            );
        }
        expect_err(
            ctx.store
                .set_alias(
                    "p",
                    "m",
                    "bad alias",
                    VersionRef::Number(1),
                    &"alice".into(),
                )
                .await,
            ErrorKind::InvalidArgument,
            "space",
        );
        expect_err(
            ctx.store
                .set_alias("p", "m", "prod", VersionRef::Number(99), &"alice".into())
                .await,
            ErrorKind::NotFound,
            "missing number",
        );
        expect_err(
            ctx.store
                .set_alias(
                    "p",
                    "m",
                    "prod",
                    VersionRef::Id(foreign.id + 1000),
                    &"alice".into(),
                )
                .await,
            ErrorKind::NotFound,
            "missing id",
        );
        expect_err(
            ctx.store
                .set_alias("p", "nope", "prod", VersionRef::Number(1), &"alice".into())
                .await,
            ErrorKind::NotFound,
            "missing model",
        );
        assert!(
            ctx.store.get_model("p", "m").await?.aliases.is_empty(),
            "no alias was set"
        );
        assert!(
            ctx.store
                .alias_history("p", "m", None, &page(10, None))
                .await?
                .items
                .is_empty(),
            "no history was written"
        );
        Ok(())
    }

    // --- lineage ----------------------------------------------------------------

    /// A dataset version read by more runs than a graph may hold: the walk stops at the
    /// limit and says so.
    pub async fn lineage_stops_at_the_node_limit(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        ctx.store
            .create_dataset("p", "d", "", "internal", &"tester".into())
            .await?;
        let version = upload(&ctx, "p", "d", CSV).await?.version;
        for i in 0..verity_store::MAX_NODES {
            let run = run_named(&ctx, "p", exp, &format!("r{i}"), 1_000)
                .await?
                .run
                .uuid;
            ctx.store
                .add_run_input(&run, version.id, "training", &"tester".into())
                .await?;
        }
        let id = version.id.to_string();
        let graph = ctx
            .store
            .lineage(NodeKind::DatasetVersion, &id, Direction::Downstream, 1)
            .await?;
        assert_eq!(
            graph.nodes.len(),
            verity_store::MAX_NODES,
            "the start node and 999 runs"
        );
        assert!(graph.truncated);
        assert_eq!(
            graph.edges.len(),
            verity_store::MAX_NODES - 1,
            "edges only between kept nodes"
        );
        let upstream = ctx
            .store
            .lineage(NodeKind::DatasetVersion, &id, Direction::Upstream, 1)
            .await?;
        assert!(!upstream.truncated);
        Ok(())
    }

    pub async fn lineage_walks(ctx: Ctx) -> TestResult {
        let exp = project_with_experiment(&ctx, "p").await?;
        ctx.store
            .create_dataset("p", "d", "", "internal", &"tester".into())
            .await?;
        let v1 = upload(&ctx, "p", "d", CSV).await?.version;
        let v2 = upload_with(
            &ctx,
            "p",
            "d",
            "id,name,score\n4,delta,3\n",
            None,
            Some(v1.id),
        )
        .await?
        .version;
        let run = run_named(&ctx, "p", exp, "train", 1).await?.run;
        ctx.store
            .add_run_input(&run.uuid, v2.id, "training", &"tester".into())
            .await?;
        ctx.store
            .create_model("p", "m", "", &"tester".into())
            .await?;
        let mv = upload_version(&ctx, "m", b"model", Some(run.uuid.clone())).await?;
        let mv_id = mv.id.to_string();
        let node = |kind: NodeKind, id: &str| (kind, id.to_string());
        let nodes_of = |g: &verity_store::model::LineageGraph| {
            g.nodes
                .iter()
                .map(|n| (n.kind, n.id.clone(), n.depth))
                .collect::<Vec<_>>()
        };

        let up3 = ctx
            .store
            .lineage(NodeKind::ModelVersion, &mv_id, Direction::Upstream, 3)
            .await?;
        assert_eq!(
            nodes_of(&up3),
            vec![
                (NodeKind::ModelVersion, mv_id.clone(), 0),
                (NodeKind::Run, run.uuid.clone(), 1),
                (NodeKind::DatasetVersion, v2.id.to_string(), 2),
                (NodeKind::DatasetVersion, v1.id.to_string(), 3),
            ]
        );
        let mut relations: Vec<_> = up3
            .edges
            .iter()
            .map(|e| (e.relation.clone(), e.context.clone()))
            .collect();
        relations.sort();
        assert_eq!(
            relations,
            vec![
                ("derived".into(), String::new()),
                ("input".into(), "training".into()),
                ("produced".into(), String::new())
            ]
        );
        assert_eq!(up3.nodes[3].label, "p/d@v1");
        assert_eq!(up3.nodes[0].label, "p/m@v1");
        assert_eq!(up3.nodes[1].label, "p/exp/train");

        let up1 = ctx
            .store
            .lineage(NodeKind::ModelVersion, &mv_id, Direction::Upstream, 1)
            .await?;
        assert_eq!(
            up1.nodes
                .iter()
                .map(|n| (n.kind, n.id.clone()))
                .collect::<Vec<_>>(),
            vec![
                node(NodeKind::ModelVersion, &mv_id),
                node(NodeKind::Run, &run.uuid)
            ]
        );
        assert_eq!(up1.edges.len(), 1);

        let down = ctx
            .store
            .lineage(
                NodeKind::DatasetVersion,
                &v1.id.to_string(),
                Direction::Downstream,
                3,
            )
            .await?;
        assert_eq!(
            down.nodes
                .iter()
                .map(|n| (n.kind, n.id.clone()))
                .collect::<Vec<_>>(),
            vec![
                node(NodeKind::DatasetVersion, &v1.id.to_string()),
                node(NodeKind::DatasetVersion, &v2.id.to_string()),
                node(NodeKind::Run, &run.uuid),
                node(NodeKind::ModelVersion, &mv_id),
            ]
        );
        let down_from_v1_upstream = ctx
            .store
            .lineage(
                NodeKind::DatasetVersion,
                &v1.id.to_string(),
                Direction::Upstream,
                3,
            )
            .await?;
        assert_eq!(down_from_v1_upstream.nodes.len(), 1, "v1 has no upstream");
        assert!(down_from_v1_upstream.edges.is_empty());

        let both = ctx
            .store
            .lineage(NodeKind::Run, &run.uuid, Direction::Both, 1)
            .await?;
        let mut kinds: Vec<_> = both.nodes.iter().map(|n| n.kind).collect();
        kinds.sort();
        assert_eq!(
            kinds,
            vec![
                NodeKind::DatasetVersion,
                NodeKind::Run,
                NodeKind::ModelVersion
            ]
        );

        expect_err(
            ctx.store
                .lineage(NodeKind::ModelVersion, &mv_id, Direction::Upstream, 0)
                .await,
            ErrorKind::InvalidArgument,
            "depth 0",
        );
        expect_err(
            ctx.store
                .lineage(
                    NodeKind::ModelVersion,
                    &mv_id,
                    Direction::Upstream,
                    verity_store::MAX_DEPTH + 1,
                )
                .await,
            ErrorKind::InvalidArgument,
            "depth too large",
        );
        expect_err(
            ctx.store
                .lineage(NodeKind::ModelVersion, "abc", Direction::Upstream, 1)
                .await,
            ErrorKind::InvalidArgument,
            "bad id",
        );
        expect_err(
            ctx.store
                .lineage(
                    NodeKind::Run,
                    "0123456789abcdef0123456789abcdef",
                    Direction::Upstream,
                    1,
                )
                .await,
            ErrorKind::NotFound,
            "unknown run",
        );
        Ok(())
    }
}
