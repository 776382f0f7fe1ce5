//! Datasets and their immutable, content-addressed versions.

use arrow_schema::Schema;
use serde_json::json;
use sqlx::{AnyConnection, Row as _};

use crate::audit::{Actor, NewEvent, append};
use crate::db::{LockTable, lock_row};
use crate::error::map_unique;
use crate::format::{self, DataFormat};
use crate::lineage::{Edge, insert_edge};
use crate::model::{Dataset, DatasetVersion, NodeKind, Page};
use crate::projects::project_id;
use crate::{BlobStore, Error, PageRequest, Result, StagedBlob, Store, blob, now_ms, validate};

const SELECT_DATASET: &str = "SELECT d.id, p.name AS project, d.name, d.description, \
     (SELECT COUNT(*) FROM dataset_versions v WHERE v.dataset_id = d.id) AS version_count, \
     d.sensitivity, d.created_by, d.created_at FROM datasets d JOIN projects p ON p.id = d.project_id";

const SELECT_VERSION: &str = "SELECT dv.id, p.name AS project, d.name AS dataset, dv.version, dv.content_hash, \
     dv.byte_size, dv.format, dv.schema_json, dv.row_count, dv.source_uri, dv.derived_from_id, dv.description, \
     dv.created_by, dv.created_at FROM dataset_versions dv JOIN datasets d ON d.id = dv.dataset_id \
     JOIN projects p ON p.id = d.project_id";

/// Where the bytes of a new dataset version come from.
#[derive(Debug, Clone)]
pub enum VersionSource {
    /// Bytes uploaded and staged by the caller.
    Upload(StagedBlob),
    /// An object-store URL that Verity reads (and copies, so the version stays immutable).
    Url(String),
}

/// A new dataset version.
#[derive(Debug, Clone)]
pub struct NewDatasetVersion {
    /// Where the bytes come from.
    pub source: VersionSource,
    /// The format; guessed from the bytes when None.
    pub format: Option<DataFormat>,
    /// A dataset version this one derives from (lineage).
    pub derived_from_id: Option<i64>,
    /// Free text.
    pub description: String,
}

/// The result of adding a version: the version, and whether it is new (false when the same
/// bytes were already a version of this dataset).
#[derive(Debug, Clone)]
pub struct AddedVersion {
    /// The version.
    pub version: DatasetVersion,
    /// False when identical bytes were already stored as a version of this dataset.
    pub created: bool,
}

/// The schema as stored: `{"fields": [{"name", "data_type", "nullable"}]}`.
pub fn schema_to_json(schema: &Schema) -> serde_json::Value {
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| {
            serde_json::json!({
                "name": f.name(),
                "data_type": f.data_type().to_string(),
                "nullable": f.is_nullable(),
            })
        })
        .collect();
    serde_json::json!({ "fields": fields })
}

fn version_from_row(row: &sqlx::any::AnyRow) -> Result<DatasetVersion> {
    let schema_text: String = row.try_get("schema_json")?;
    let format_text: String = row.try_get("format")?;
    Ok(DatasetVersion {
        id: row.try_get("id")?,
        project: row.try_get("project")?,
        dataset: row.try_get("dataset")?,
        version: row.try_get("version")?,
        content_hash: row.try_get("content_hash")?,
        byte_size: row.try_get("byte_size")?,
        format: DataFormat::parse(&format_text)?,
        schema: serde_json::from_str(&schema_text)
            .map_err(|e| Error::Internal(format!("stored schema: {e}")))?,
        row_count: row.try_get("row_count")?,
        source_uri: row.try_get("source_uri")?,
        derived_from_id: row.try_get("derived_from_id")?,
        description: row.try_get("description")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(crate) async fn dataset_id(conn: &mut AnyConnection, project: &str, name: &str) -> Result<i64> {
    let project_id = project_id(conn, project).await?;
    sqlx::query_scalar("SELECT id FROM datasets WHERE project_id = $1 AND name = $2")
        .bind(project_id)
        .bind(name)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::not_found("dataset", format!("{project}/{name}")))
}

/// The first version of a dataset with these bytes, if any.
async fn same_bytes(
    conn: &mut AnyConnection,
    dataset_id: i64,
    content_hash: &str,
) -> Result<Option<DatasetVersion>> {
    let existing: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM dataset_versions WHERE dataset_id = $1 AND content_hash = $2 ORDER BY version LIMIT 1",
    )
    .bind(dataset_id)
    .bind(content_hash)
    .fetch_optional(&mut *conn)
    .await?;
    match existing {
        Some(id) => Ok(Some(version_by_id(conn, id).await?)),
        None => Ok(None),
    }
}

/// A dataset version of `project`. One that does not exist and one of another project get the
/// same NotFound, which names neither that project nor whether the version exists.
pub(crate) async fn version_in_project(
    conn: &mut AnyConnection,
    id: i64,
    project: &str,
) -> Result<DatasetVersion> {
    let not_here = || Error::not_found("dataset_version", format!("{id} in project '{project}'"));
    match version_by_id(conn, id).await {
        Ok(version) if version.project == project => Ok(version),
        Ok(_) => Err(not_here()),
        Err(e) if e.kind() == crate::ErrorKind::NotFound => Err(not_here()),
        Err(e) => Err(e),
    }
}

pub(crate) async fn version_by_id(conn: &mut AnyConnection, id: i64) -> Result<DatasetVersion> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT_VERSION} WHERE dv.id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| Error::not_found("dataset_version", id))?;
    version_from_row(&row)
}

impl Store {
    /// Creates a dataset in a project with a sensitivity (`public`, `internal`,
    /// `confidential` or `restricted`).
    pub async fn create_dataset(
        &self,
        project: &str,
        name: &str,
        description: &str,
        sensitivity: &str,
        actor: &Actor,
    ) -> Result<Dataset> {
        validate::name("dataset name", name)?;
        validate::description(description)?;
        validate::sensitivity(sensitivity)?;
        let mut tx = self.begin_write().await?;
        let project_id = project_id(&mut tx, project).await?;
        sqlx::query("INSERT INTO datasets (project_id, name, description, sensitivity, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(project_id)
            .bind(name)
            .bind(description)
            .bind(sensitivity)
            .bind(&actor.principal)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(map_unique("dataset", name))?;
        let event = NewEvent::success(
            "dataset.create",
            format!("project/{project}/dataset/{name}"),
            Some(project),
            json!({"sensitivity": sensitivity}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        self.get_dataset(project, name).await
    }

    /// Changes a dataset's description and/or sensitivity.
    pub async fn update_dataset(
        &self,
        project: &str,
        name: &str,
        description: Option<&str>,
        sensitivity: Option<&str>,
        actor: &Actor,
    ) -> Result<Dataset> {
        if let Some(description) = description {
            validate::description(description)?;
        }
        if let Some(sensitivity) = sensitivity {
            validate::sensitivity(sensitivity)?;
        }
        let mut tx = self.begin_write().await?;
        let id = dataset_id(&mut tx, project, name).await?;
        let before: String = sqlx::query_scalar("SELECT sensitivity FROM datasets WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE datasets SET description = COALESCE($1, description), sensitivity = COALESCE($2, sensitivity) WHERE id = $3",
        )
        .bind(description)
        .bind(sensitivity)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let event = NewEvent::success(
            "dataset.update",
            format!("project/{project}/dataset/{name}"),
            Some(project),
            json!({"description": description, "sensitivity": sensitivity, "previous_sensitivity": before}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        self.get_dataset(project, name).await
    }

    /// Reads a dataset.
    pub async fn get_dataset(&self, project: &str, name: &str) -> Result<Dataset> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_DATASET} WHERE p.name = $1 AND d.name = $2"
        )))
        .bind(project)
        .bind(name)
        .fetch_optional(&self.inner.read)
        .await?
        .ok_or_else(|| Error::not_found("dataset", format!("{project}/{name}")))
    }

    /// Lists a project's datasets.
    pub async fn list_datasets(&self, project: &str, page: &PageRequest) -> Result<Page<Dataset>> {
        let mut conn = self.inner.read.acquire().await?;
        let project_id = project_id(&mut conn, project).await?;
        let rows: Vec<Dataset> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_DATASET} WHERE d.project_id = $1 AND d.id > $2 ORDER BY d.id LIMIT $3"
        )))
        .bind(project_id)
        .bind(page.after_key())
        .bind(page.fetch())
        .fetch_all(&mut *conn)
        .await?;
        Ok(Page::from_rows(rows, page, |d| d.id))
    }

    /// Adds a version to a dataset: reads its schema and row count (refusing bytes that are not
    /// of the format), stores the bytes once by content hash, records lineage, and (for a new
    /// version only) enqueues a job for each enabled monitor of the dataset that runs on new
    /// versions.
    pub async fn add_dataset_version(
        &self,
        project: &str,
        dataset: &str,
        new: NewDatasetVersion,
        actor: &Actor,
    ) -> Result<AddedVersion> {
        let checked = async {
            validate::description(&new.description)?;
            let mut conn = self.inner.read.acquire().await?;
            dataset_id(&mut conn, project, dataset).await.map(drop)
        }
        .await;
        if let Err(e) = checked {
            // The staged upload belongs to this call: do not leave it behind.
            if let VersionSource::Upload(staged) = &new.source
                && let Err(discard_err) = self.inner.blobs.discard(staged).await
            {
                tracing::warn!(error = %discard_err, "discarding a staged upload failed");
            }
            return Err(e);
        }
        let (staged, source_uri) = match new.source {
            VersionSource::Upload(staged) => (staged, None),
            VersionSource::Url(url) => {
                let (source, path) = open_registrable_url(&url, &self.inner.blobs)?;
                (
                    self.inner.blobs.stage_from(source.as_ref(), &path).await?,
                    Some(url),
                )
            }
        };
        let result = self
            .record_version(
                project,
                dataset,
                &staged,
                new.format,
                new.derived_from_id,
                &new.description,
                source_uri,
                actor,
            )
            .await;
        if (result.is_err() || matches!(result, Ok(AddedVersion { created: false, .. })))
            && let Err(e) = self.inner.blobs.discard(&staged).await
        {
            tracing::warn!(error = %e, "discarding a staged upload failed");
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    async fn record_version(
        &self,
        project: &str,
        dataset: &str,
        staged: &StagedBlob,
        format: Option<DataFormat>,
        derived_from_id: Option<i64>,
        description: &str,
        source_uri: Option<String>,
        actor: &Actor,
    ) -> Result<AddedVersion> {
        let store = self.inner.blobs.object_store();
        let format = match format {
            Some(f) => f,
            None => format::sniff(store.as_ref(), staged.location(), staged.byte_size).await?,
        };
        let inspection =
            format::inspect(store, staged.location(), staged.byte_size, format).await?;
        let schema_json = schema_to_json(&inspection.schema).to_string();

        let byte_size =
            i64::try_from(staged.byte_size).map_err(|_| Error::invalid("file too large"))?;
        // Check on a read connection first, so that the blob is moved (a server-side copy on
        // S3) outside the write transaction, and only for a version that will be recorded.
        {
            let mut conn = self.inner.read.acquire().await?;
            let dataset_id = dataset_id(&mut conn, project, dataset).await?;
            if let Some(version) = same_bytes(&mut conn, dataset_id, &staged.content_hash).await? {
                return Ok(AddedVersion {
                    version,
                    created: false,
                });
            }
            if let Some(parent) = derived_from_id {
                version_in_project(&mut conn, parent, project).await?;
            }
            self.check_quota(&mut conn, project, staged.byte_size, false)
                .await?;
        }
        // Commit the bytes before the row: a row must never point at a missing blob.
        self.inner.blobs.commit(staged).await?;
        let mut tx = self.begin_write().await?;
        let dataset_id = dataset_id(&mut tx, project, dataset).await?;
        lock_row(&mut tx, self.inner.backend, LockTable::Datasets, dataset_id).await?;
        // Again under the lock: a concurrent upload of the same bytes may have won.
        if let Some(version) = same_bytes(&mut tx, dataset_id, &staged.content_hash).await? {
            return Ok(AddedVersion {
                version,
                created: false,
            });
        }
        self.check_quota(&mut tx, project, staged.byte_size, true)
            .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO dataset_versions (dataset_id, version, content_hash, byte_size, format, schema_json, row_count, \
             source_uri, derived_from_id, description, created_by, created_at) \
             VALUES ($1, (SELECT COALESCE(MAX(version), 0) + 1 FROM dataset_versions WHERE dataset_id = $1), \
             $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(dataset_id)
        .bind(&staged.content_hash)
        .bind(byte_size)
        .bind(format.as_str())
        .bind(&schema_json)
        .bind(inspection.row_count)
        .bind(source_uri)
        .bind(derived_from_id)
        .bind(description)
        .bind(&actor.principal)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        if let Some(parent) = derived_from_id {
            let edge = Edge::new(
                NodeKind::DatasetVersion,
                parent,
                NodeKind::DatasetVersion,
                id,
                "derived",
                "",
            );
            insert_edge(&mut tx, &edge, &actor.principal).await?;
        }
        // In the version's own transaction: a committed version always has its monitor jobs.
        crate::jobs::enqueue_for_new_version(&mut tx, dataset_id, id, actor).await?;
        let version = version_by_id(&mut tx, id).await?;
        let event = NewEvent::success(
            "dataset.write",
            format!(
                "project/{project}/dataset/{dataset}/version/{}",
                version.version
            ),
            Some(project),
            json!({"content_hash": version.content_hash, "byte_size": version.byte_size, "rows": version.row_count, "source_uri": version.source_uri}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(AddedVersion {
            version,
            created: true,
        })
    }

    /// Lists the versions of a dataset, oldest first.
    pub async fn list_dataset_versions(
        &self,
        project: &str,
        dataset: &str,
        page: &PageRequest,
    ) -> Result<Page<DatasetVersion>> {
        let mut conn = self.inner.read.acquire().await?;
        let dataset_id = dataset_id(&mut conn, project, dataset).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT_VERSION} WHERE dv.dataset_id = $1 AND dv.version > $2 ORDER BY dv.version LIMIT $3")))
            .bind(dataset_id)
            .bind(page.after_key())
            .bind(page.fetch())
            .fetch_all(&mut *conn)
            .await?;
        let versions = rows
            .iter()
            .map(version_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(versions, page, |v| v.version))
    }

    /// Reads one version of a dataset.
    pub async fn get_dataset_version(
        &self,
        project: &str,
        dataset: &str,
        version: i64,
    ) -> Result<DatasetVersion> {
        let mut conn = self.inner.read.acquire().await?;
        let dataset_id = dataset_id(&mut conn, project, dataset).await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT_VERSION} WHERE dv.dataset_id = $1 AND dv.version = $2"
        )))
        .bind(dataset_id)
        .bind(version)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| {
            Error::not_found("dataset_version", format!("{project}/{dataset}@{version}"))
        })?;
        version_from_row(&row)
    }

    /// Reads a dataset version by its global id.
    pub async fn get_dataset_version_by_id(&self, id: i64) -> Result<DatasetVersion> {
        let mut conn = self.inner.read.acquire().await?;
        version_by_id(&mut conn, id).await
    }
}

/// Schemes of object stores a dataset version can be read from. Never `file` or `memory`: a
/// server must not read its own disk on a client's say-so.
const REGISTRABLE_SCHEMES: [&str; 7] = ["s3", "s3a", "gs", "az", "abfs", "abfss", "azure"];

/// Whether `name` is spelled as a bucket or container is (lower-case letters, digits, `.`,
/// `-`, `_`; 1 to 255 characters): never percent-escaped or in upper case, so that the name
/// compared with Verity's own store is the name the request goes to.
fn plain_bucket_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
        })
}

/// Opens a URL for registration: an object of a registrable store, in a bucket named plainly,
/// outside Verity's own store `own`.
fn open_registrable_url(
    url: &str,
    own: &BlobStore,
) -> Result<(
    std::sync::Arc<dyn object_store::ObjectStore>,
    object_store::path::Path,
)> {
    // Decide on the parsed scheme, the same one the object store would use: `file:/x`,
    // ` file:///x` and other spellings all parse to `file`.
    let parsed = url::Url::parse(url)
        .map_err(|e| Error::invalid(format!("source_uri '{url}' is not a valid url: {e}")))?;
    if url != url.trim() {
        return Err(Error::invalid(
            "source_uri must not have surrounding whitespace",
        ));
    }
    if !REGISTRABLE_SCHEMES.contains(&parsed.scheme()) {
        return Err(Error::invalid(format!(
            "'{}:' urls cannot be registered: use an upload, or an object store url ({})",
            parsed.scheme(),
            REGISTRABLE_SCHEMES.join(", ")
        )));
    }
    // The bucket (or the container, `abfss://container@account...`) goes into the request as
    // written: an escaped or upper-case spelling would name Verity's own bucket under another
    // name.
    let bucket = parsed.host_str().unwrap_or_default();
    let container = parsed.username();
    if !plain_bucket_name(bucket) || !(container.is_empty() || plain_bucket_name(container)) {
        return Err(Error::invalid(format!(
            "source_uri '{url}' must name its bucket plainly: lower-case letters, digits, '.', \
             '-' and '_', nothing escaped"
        )));
    }
    let (store, path) = blob::open_url(url)?;
    if path.as_ref().is_empty() {
        return Err(Error::invalid("the url must name an object, not a bucket"));
    }
    if own.contains_object(&parsed, &path) {
        return Err(Error::invalid(
            "source_uri points inside Verity's own object store: upload the bytes, or register the original source",
        ));
    }
    Ok((store, path))
}
