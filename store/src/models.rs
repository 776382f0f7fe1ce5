//! Registered models, model versions, aliases and the alias history.

use serde_json::json;

use crate::audit::{Actor, NewEvent, append};
use std::collections::HashMap;

use sqlx::{AnyConnection, Row as _};

use crate::db::{LockTable, lock_row};
use crate::error::map_unique;
use crate::lineage::{Edge, insert_edge};
use crate::model::{
    AliasEvent, KeyValue, ModelAlias, ModelVersion, NodeKind, Page, RegisteredModel, StoredFile,
};
use crate::projects::project_id;
use crate::promotion::{Retirement, retirement_of};
use crate::runs::{TagOwner, active_run, upsert_tags, validate_pairs};
use crate::tags::tags_by_owner;
use crate::{Error, PageRequest, Result, StagedBlob, Store, now_ms, validate};

/// Where a new model version's files come from.
#[derive(Debug, Clone)]
pub enum ModelSource {
    /// A run artifact: one file, or every file under a directory.
    RunArtifact {
        /// The run's public id.
        run_id: String,
        /// Artifact path (file or directory).
        path: String,
    },
    /// One uploaded file.
    Upload {
        /// The staged bytes.
        staged: StagedBlob,
        /// The file's name inside the version.
        file_name: String,
        /// The run that produced it, if any.
        run_id: Option<String>,
    },
}

/// A new model version.
#[derive(Debug, Clone)]
pub struct NewModelVersion {
    /// Where the files come from.
    pub source: ModelSource,
    /// Free text.
    pub description: String,
    /// Initial tags.
    pub tags: Vec<KeyValue>,
}

/// How a caller names the version an alias should point to.
#[derive(Debug, Clone, Copy)]
pub enum VersionRef {
    /// A version number of this model.
    Number(i64),
    /// A global model version id (which must belong to this model).
    Id(i64),
}

pub(crate) struct ModelRow {
    pub(crate) id: i64,
}

pub(crate) async fn model_row(
    conn: &mut AnyConnection,
    project: &str,
    name: &str,
) -> Result<ModelRow> {
    let project_id = project_id(conn, project).await?;
    let id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM registered_models WHERE project_id = $1 AND name = $2")
            .bind(project_id)
            .bind(name)
            .fetch_optional(conn)
            .await?;
    id.map(|id| ModelRow { id })
        .ok_or_else(|| Error::not_found("model", format!("{project}/{name}")))
}

/// `1,2,3` for an IN list. The ids are integers read from the database, so inlining them is safe.
fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

async fn load_model(conn: &mut AnyConnection, id: i64) -> Result<RegisteredModel> {
    load_models(conn, &[id])
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("model", id))
}

/// Models with their aliases, in the order of `ids`: two queries whatever the count.
async fn load_models(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<RegisteredModel>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = id_list(ids);
    let mut tags = tags_by_owner(conn, "registered_model_tags", "model_id", ids).await?;
    let mut aliases: HashMap<i64, Vec<ModelAlias>> = HashMap::new();
    let sql = format!(
        "SELECT a.model_id, a.alias, v.version, a.created_by, a.created_at FROM model_aliases a \
         JOIN model_versions v ON v.id = a.model_version_id WHERE a.model_id IN ({list}) ORDER BY a.alias"
    );
    for r in sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?
    {
        aliases
            .entry(r.try_get("model_id")?)
            .or_default()
            .push(ModelAlias {
                alias: r.try_get("alias")?,
                version: r.try_get("version")?,
                set_by: r.try_get("created_by")?,
                set_at: r.try_get("created_at")?,
            });
    }
    let sql = format!(
        "SELECT m.id, p.name AS project, m.name, m.description, m.created_by, m.created_at, m.updated_at, \
         (SELECT COALESCE(MAX(v.version), 0) FROM model_versions v WHERE v.model_id = m.id) AS latest_version \
         FROM registered_models m JOIN projects p ON p.id = m.project_id WHERE m.id IN ({list})"
    );
    let mut models: HashMap<i64, RegisteredModel> = HashMap::new();
    for row in sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?
    {
        let id: i64 = row.try_get("id")?;
        models.insert(
            id,
            RegisteredModel {
                id,
                project: row.try_get("project")?,
                name: row.try_get("name")?,
                description: row.try_get("description")?,
                latest_version: row.try_get("latest_version")?,
                aliases: aliases.remove(&id).unwrap_or_default(),
                tags: tags.remove(&id).unwrap_or_default(),
                created_by: row.try_get("created_by")?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
            },
        );
    }
    Ok(ids.iter().filter_map(|id| models.remove(id)).collect())
}

async fn load_version(conn: &mut AnyConnection, id: i64) -> Result<ModelVersion> {
    load_versions(conn, &[id])
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("model_version", id))
}

/// Versions with their tags, aliases and files, in the order of `ids`: four queries whatever
/// the count.
async fn load_versions(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<ModelVersion>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = id_list(ids);
    let mut tags = tags_by_owner(conn, "model_version_tags", "model_version_id", ids).await?;
    let mut aliases: HashMap<i64, Vec<String>> = HashMap::new();
    let sql = format!(
        "SELECT model_version_id, alias FROM model_aliases WHERE model_version_id IN ({list}) ORDER BY alias"
    );
    for r in sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?
    {
        aliases
            .entry(r.try_get("model_version_id")?)
            .or_default()
            .push(r.try_get("alias")?);
    }
    let mut files: HashMap<i64, Vec<StoredFile>> = HashMap::new();
    let sql = format!(
        "SELECT model_version_id, path, content_hash, byte_size, created_by, created_at FROM model_version_files \
         WHERE model_version_id IN ({list}) ORDER BY path"
    );
    for r in sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?
    {
        files
            .entry(r.try_get("model_version_id")?)
            .or_default()
            .push(StoredFile {
                path: r.try_get("path")?,
                content_hash: r.try_get("content_hash")?,
                byte_size: r.try_get("byte_size")?,
                created_by: r.try_get("created_by")?,
                created_at: r.try_get("created_at")?,
            });
    }
    let sql = format!(
        "SELECT v.id, p.name AS project, m.name AS model, v.version, r.uuid AS run_uuid, v.source_path, v.description, \
         v.status, v.created_by, v.created_at, v.updated_at, rt.reason AS retired_reason, \
         rt.retired_by, rt.retired_at FROM model_versions v \
         JOIN registered_models m ON m.id = v.model_id JOIN projects p ON p.id = m.project_id \
         LEFT JOIN runs r ON r.id = v.source_run_id \
         LEFT JOIN model_version_retirements rt ON rt.model_version_id = v.id WHERE v.id IN ({list})"
    );
    let mut versions: HashMap<i64, ModelVersion> = HashMap::new();
    for row in sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?
    {
        let id: i64 = row.try_get("id")?;
        versions.insert(
            id,
            ModelVersion {
                id,
                project: row.try_get("project")?,
                model: row.try_get("model")?,
                version: row.try_get("version")?,
                source_run_id: row.try_get("run_uuid")?,
                source_path: row.try_get("source_path")?,
                description: row.try_get("description")?,
                status: row.try_get("status")?,
                tags: tags.remove(&id).unwrap_or_default(),
                aliases: aliases.remove(&id).unwrap_or_default(),
                files: files.remove(&id).unwrap_or_default(),
                created_by: row.try_get("created_by")?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
                retired: match row.try_get::<Option<String>, _>("retired_reason")? {
                    Some(reason) => Some(Retirement {
                        reason,
                        retired_by: row.try_get("retired_by")?,
                        retired_at: row.try_get("retired_at")?,
                    }),
                    None => None,
                },
            },
        );
    }
    Ok(ids.iter().filter_map(|id| versions.remove(id)).collect())
}

pub(crate) async fn version_id(
    conn: &mut AnyConnection,
    model_id: i64,
    version: i64,
    label: &str,
) -> Result<i64> {
    sqlx::query_scalar("SELECT id FROM model_versions WHERE model_id = $1 AND version = $2")
        .bind(model_id)
        .bind(version)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::not_found("model_version", format!("{label}@v{version}")))
}

impl Store {
    /// Registers a model name in a project.
    pub async fn create_model(
        &self,
        project: &str,
        name: &str,
        description: &str,
        actor: &Actor,
    ) -> Result<RegisteredModel> {
        validate::name("model name", name)?;
        validate::description(description)?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let project_id = project_id(&mut tx, project).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO registered_models (project_id, name, description, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(project_id)
        .bind(name)
        .bind(description)
        .bind(&actor.principal)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_unique("model", name))?;
        let model = load_model(&mut tx, id).await?;
        let event = NewEvent::success(
            "model.create",
            format!("project/{project}/model/{name}"),
            Some(project),
            json!({"description": description}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(model)
    }

    /// Renames a model. Versions, aliases, lineage and reports refer to it by id and follow;
    /// the audit trail keeps the old name in the events before the rename.
    pub async fn rename_model(
        &self,
        project: &str,
        name: &str,
        new_name: &str,
        actor: &Actor,
    ) -> Result<RegisteredModel> {
        validate::name("model name", new_name)?;
        let mut tx = self.begin_write().await?;
        let row = model_row(&mut tx, project, name).await?;
        sqlx::query("UPDATE registered_models SET name = $1, updated_at = $2 WHERE id = $3")
            .bind(new_name)
            .bind(now_ms())
            .bind(row.id)
            .execute(&mut *tx)
            .await
            .map_err(map_unique("model", new_name))?;
        let model = load_model(&mut tx, row.id).await?;
        let event = NewEvent::success(
            "model.update",
            format!("project/{project}/model/{new_name}"),
            Some(project),
            json!({"renamed_from": name}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(model)
    }

    /// Reads a registered model.
    pub async fn get_model(&self, project: &str, name: &str) -> Result<RegisteredModel> {
        let mut conn = self.inner.read.acquire().await?;
        let row = model_row(&mut conn, project, name).await?;
        load_model(&mut conn, row.id).await
    }

    /// Lists a project's registered models.
    pub async fn list_models(
        &self,
        project: &str,
        page: &PageRequest,
    ) -> Result<Page<RegisteredModel>> {
        let mut conn = self.inner.read.acquire().await?;
        let project_id = project_id(&mut conn, project).await?;
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM registered_models WHERE project_id = $1 AND id > $2 ORDER BY id LIMIT $3")
            .bind(project_id)
            .bind(page.after_key())
            .bind(page.fetch())
            .fetch_all(&mut *conn)
            .await?;
        let models = load_models(&mut conn, &ids).await?;
        Ok(Page::from_rows(models, page, |m| m.id))
    }

    /// Changes a model's description.
    pub async fn update_model(
        &self,
        project: &str,
        name: &str,
        description: &str,
        actor: &Actor,
    ) -> Result<RegisteredModel> {
        validate::description(description)?;
        let mut tx = self.begin_write().await?;
        let row = model_row(&mut tx, project, name).await?;
        sqlx::query("UPDATE registered_models SET description = $1, updated_at = $2 WHERE id = $3")
            .bind(description)
            .bind(now_ms())
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
        let model = load_model(&mut tx, row.id).await?;
        let event = NewEvent::success(
            "model.update",
            format!("project/{project}/model/{name}"),
            Some(project),
            json!({"description": description}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(model)
    }

    /// Creates the next version of a model from a run artifact or an upload; records lineage
    /// from the source run.
    pub async fn create_model_version(
        &self,
        project: &str,
        model: &str,
        new: NewModelVersion,
        actor: &Actor,
    ) -> Result<ModelVersion> {
        let staged = match &new.source {
            ModelSource::Upload { staged, .. } => Some(staged.clone()),
            ModelSource::RunArtifact { .. } => None,
        };
        let result = self.record_model_version(project, model, new, actor).await;
        if let Some(staged) = staged
            && let Err(e) = self.inner.blobs.discard(&staged).await
        {
            tracing::warn!(error = %e, "discarding a staged model file failed");
        }
        result
    }

    async fn record_model_version(
        &self,
        project: &str,
        model: &str,
        new: NewModelVersion,
        actor: &Actor,
    ) -> Result<ModelVersion> {
        validate::description(&new.description)?;
        validate_pairs("tag", &new.tags)?;
        if let ModelSource::Upload {
            staged,
            file_name,
            run_id,
        } = &new.source
        {
            // Check on a read connection first, so that the bytes are moved (a server-side copy
            // on S3) outside the write transaction, and only for a version that will be recorded.
            validate::artifact_path(file_name)?;
            let mut conn = self.inner.read.acquire().await?;
            model_row(&mut conn, project, model).await?;
            if let Some(id) = run_id {
                check_run_project(&active_run(&mut conn, id).await?, project)?;
            }
            self.check_quota(&mut conn, project, staged.byte_size, false)
                .await?;
            drop(conn);
            self.inner.blobs.commit(staged).await?;
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let model_row = model_row(&mut tx, project, model).await?;
        lock_row(
            &mut tx,
            self.inner.backend,
            LockTable::RegisteredModels,
            model_row.id,
        )
        .await?;
        let (run, source_path, files): (
            Option<crate::model::Run>,
            Option<String>,
            Vec<StoredFile>,
        ) = match &new.source {
            ModelSource::RunArtifact { run_id, path } => {
                validate::artifact_path(path)?;
                let run = active_run(&mut tx, run_id).await?;
                check_run_project(&run, project)?;
                let prefix = format!("{path}/");
                let found: Vec<StoredFile> = sqlx::query_as(
                    "SELECT path, content_hash, byte_size, created_by, created_at FROM run_artifacts \
                     WHERE run_id = $1 AND (path = $2 OR substr(path, 1, length($3)) = $3) ORDER BY path",
                )
                .bind(run.id)
                .bind(path)
                .bind(&prefix)
                .fetch_all(&mut *tx)
                .await?;
                if found.is_empty() {
                    return Err(Error::not_found("artifact", format!("{run_id}/{path}")));
                }
                let files = found
                    .into_iter()
                    .map(|f| {
                        let relative = match f.path.strip_prefix(&prefix) {
                            Some(rest) => rest.to_string(),
                            None => f.path.rsplit('/').next().unwrap_or(&f.path).to_string(),
                        };
                        StoredFile {
                            path: relative,
                            ..f
                        }
                    })
                    .collect();
                (Some(run), Some(path.clone()), files)
            }
            ModelSource::Upload {
                staged,
                file_name,
                run_id,
            } => {
                validate::artifact_path(file_name)?;
                let run = match run_id {
                    Some(id) => Some(active_run(&mut tx, id).await?),
                    None => None,
                };
                if let Some(run) = &run {
                    check_run_project(run, project)?;
                }
                self.check_quota(&mut tx, project, staged.byte_size, true)
                    .await?;
                let size = i64::try_from(staged.byte_size)
                    .map_err(|_| Error::invalid("file too large"))?;
                let file = StoredFile {
                    path: file_name.clone(),
                    content_hash: staged.content_hash.clone(),
                    byte_size: size,
                    created_by: actor.principal.clone(),
                    created_at: now,
                };
                (run, None, vec![file])
            }
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO model_versions (model_id, version, source_run_id, source_path, description, status, created_by, created_at, updated_at) \
             VALUES ($1, (SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE model_id = $1), $2, $3, $4, 'READY', $5, $6, $6) \
             RETURNING id",
        )
        .bind(model_row.id)
        .bind(run.as_ref().map(|r| r.id))
        .bind(source_path)
        .bind(&new.description)
        .bind(&actor.principal)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        for file in &files {
            sqlx::query(
                "INSERT INTO model_version_files (model_version_id, path, content_hash, byte_size, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(&file.path)
            .bind(&file.content_hash)
            .bind(file.byte_size)
            .bind(&actor.principal)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        upsert_tags(
            &mut tx,
            TagOwner::ModelVersion(id),
            &new.tags,
            &actor.principal,
            now,
        )
        .await?;
        if let Some(run) = &run {
            insert_edge(
                &mut tx,
                &Edge::new(
                    NodeKind::Run,
                    run.id,
                    NodeKind::ModelVersion,
                    id,
                    "produced",
                    "",
                ),
                &actor.principal,
            )
            .await?;
        }
        sqlx::query("UPDATE registered_models SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(model_row.id)
            .execute(&mut *tx)
            .await?;
        let version = load_version(&mut tx, id).await?;
        let event = NewEvent::success(
            "model_version.create",
            format!(
                "project/{project}/model/{model}/version/{}",
                version.version
            ),
            Some(project),
            json!({"source_run": run.as_ref().map(|r| r.uuid.clone()), "files": files.len()}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Reads one version of a model.
    pub async fn get_model_version(
        &self,
        project: &str,
        model: &str,
        version: i64,
    ) -> Result<ModelVersion> {
        let mut conn = self.inner.read.acquire().await?;
        let row = model_row(&mut conn, project, model).await?;
        let id = version_id(&mut conn, row.id, version, model).await?;
        load_version(&mut conn, id).await
    }

    /// Reads a model version by its global id.
    pub async fn get_model_version_by_id(&self, id: i64) -> Result<ModelVersion> {
        let mut conn = self.inner.read.acquire().await?;
        load_version(&mut conn, id).await
    }

    /// Lists a model's versions, oldest first.
    pub async fn list_model_versions(
        &self,
        project: &str,
        model: &str,
        page: &PageRequest,
    ) -> Result<Page<ModelVersion>> {
        let mut conn = self.inner.read.acquire().await?;
        let row = model_row(&mut conn, project, model).await?;
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM model_versions WHERE model_id = $1 AND version > $2 ORDER BY version LIMIT $3")
            .bind(row.id)
            .bind(page.after_key())
            .bind(page.fetch())
            .fetch_all(&mut *conn)
            .await?;
        let versions = load_versions(&mut conn, &ids).await?;
        Ok(Page::from_rows(versions, page, |v| v.version))
    }

    /// Changes a version's description and/or sets tags.
    pub async fn update_model_version(
        &self,
        project: &str,
        model: &str,
        version: i64,
        description: Option<&str>,
        tags: &[KeyValue],
        actor: &Actor,
    ) -> Result<ModelVersion> {
        if let Some(d) = description {
            validate::description(d)?;
        }
        validate_pairs("tag", tags)?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let row = model_row(&mut tx, project, model).await?;
        let id = version_id(&mut tx, row.id, version, model).await?;
        if let Some(d) = description {
            sqlx::query(
                "UPDATE model_versions SET description = $1, updated_at = $2 WHERE id = $3",
            )
            .bind(d)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        upsert_tags(
            &mut tx,
            TagOwner::ModelVersion(id),
            tags,
            &actor.principal,
            now,
        )
        .await?;
        let version = load_version(&mut tx, id).await?;
        let event = NewEvent::success(
            "model_version.update",
            format!(
                "project/{project}/model/{model}/version/{}",
                version.version
            ),
            Some(project),
            json!({"description": description, "tags": tags.iter().map(|t| &t.key).collect::<Vec<_>>()}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Points an alias at a version of this model and records the move.
    pub async fn set_alias(
        &self,
        project: &str,
        model: &str,
        alias: &str,
        target: VersionRef,
        actor: &Actor,
    ) -> Result<ModelVersion> {
        self.set_alias_with_evidence(project, model, alias, target, None, actor)
            .await
    }

    /// [`Store::set_alias`], recording in the alias history the evidence the move relied on (a
    /// gate's verdict). A retired version is refused.
    pub async fn set_alias_with_evidence(
        &self,
        project: &str,
        model: &str,
        alias: &str,
        target: VersionRef,
        evidence: Option<&serde_json::Value>,
        actor: &Actor,
    ) -> Result<ModelVersion> {
        validate::alias(alias)?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let row = model_row(&mut tx, project, model).await?;
        lock_row(
            &mut tx,
            self.inner.backend,
            LockTable::RegisteredModels,
            row.id,
        )
        .await?;
        let new_id = match target {
            VersionRef::Number(n) => version_id(&mut tx, row.id, n, model).await?,
            VersionRef::Id(id) => {
                let owner: Option<i64> =
                    sqlx::query_scalar("SELECT model_id FROM model_versions WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                match owner {
                    None => return Err(Error::not_found("model_version", id)),
                    Some(owner) if owner != row.id => {
                        return Err(Error::Conflict(format!(
                            "model version {id} belongs to another model, not '{model}'"
                        )));
                    }
                    Some(_) => id,
                }
            }
        };
        if let Some(retired) = retirement_of(&mut tx, new_id).await? {
            return Err(Error::Conflict(format!(
                "that version of '{model}' is retired ({}): it can take no alias",
                retired.reason
            )));
        }
        let old_id: Option<i64> = sqlx::query_scalar(
            "SELECT model_version_id FROM model_aliases WHERE model_id = $1 AND alias = $2",
        )
        .bind(row.id)
        .bind(alias)
        .fetch_optional(&mut *tx)
        .await?;
        if old_id != Some(new_id) {
            sqlx::query(
                "INSERT INTO model_aliases (model_id, alias, model_version_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (model_id, alias) DO UPDATE SET model_version_id = excluded.model_version_id, \
                 created_by = excluded.created_by, created_at = excluded.created_at",
            )
            .bind(row.id)
            .bind(alias)
            .bind(new_id)
            .bind(&actor.principal)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let change = AliasChange {
                model_id: row.id,
                alias,
                old: old_id,
                new: Some(new_id),
                evidence,
            };
            record_alias_event(&mut tx, &change, &actor.principal, now).await?;
        }
        let version = load_version(&mut tx, new_id).await?;
        let event = NewEvent::success(
            "model.alias",
            format!("project/{project}/model/{model}/alias/{alias}"),
            Some(project),
            json!({"old_version_id": old_id, "new_version_id": new_id, "version": version.version}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Removes an alias and records the removal.
    pub async fn delete_alias(
        &self,
        project: &str,
        model: &str,
        alias: &str,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let row = model_row(&mut tx, project, model).await?;
        lock_row(
            &mut tx,
            self.inner.backend,
            LockTable::RegisteredModels,
            row.id,
        )
        .await?;
        let old_id: Option<i64> = sqlx::query_scalar(
            "SELECT model_version_id FROM model_aliases WHERE model_id = $1 AND alias = $2",
        )
        .bind(row.id)
        .bind(alias)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(old_id) = old_id else {
            return Err(Error::not_found("alias", format!("{model}@{alias}")));
        };
        sqlx::query("DELETE FROM model_aliases WHERE model_id = $1 AND alias = $2")
            .bind(row.id)
            .bind(alias)
            .execute(&mut *tx)
            .await?;
        let change = AliasChange {
            model_id: row.id,
            alias,
            old: Some(old_id),
            new: None,
            evidence: None,
        };
        record_alias_event(&mut tx, &change, &actor.principal, now_ms()).await?;
        let event = NewEvent::success(
            "model.alias",
            format!("project/{project}/model/{model}/alias/{alias}"),
            Some(project),
            json!({"old_version_id": old_id, "new_version_id": null}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The version an alias points to now, or pointed to at time `at` (ms since the epoch).
    pub async fn resolve_alias(
        &self,
        project: &str,
        model: &str,
        alias: &str,
        at: Option<i64>,
    ) -> Result<ModelVersion> {
        let mut conn = self.inner.read.acquire().await?;
        let row = model_row(&mut conn, project, model).await?;
        let id: Option<i64> = match at {
            None => sqlx::query_scalar("SELECT model_version_id FROM model_aliases WHERE model_id = $1 AND alias = $2")
                .bind(row.id)
                .bind(alias)
                .fetch_optional(&mut *conn)
                .await?,
            Some(t) => sqlx::query_scalar::<_, Option<i64>>(
                "SELECT new_version_id FROM model_alias_history WHERE model_id = $1 AND alias = $2 AND created_at <= $3 \
                 ORDER BY created_at DESC, id DESC LIMIT 1",
            )
            .bind(row.id)
            .bind(alias)
            .bind(t)
            .fetch_optional(&mut *conn)
            .await?
            .flatten(),
        };
        let Some(id) = id else {
            let when = at.map(|t| format!(" at {t}")).unwrap_or_default();
            return Err(Error::not_found("alias", format!("{model}@{alias}{when}")));
        };
        load_version(&mut conn, id).await
    }

    /// Every move of a model's aliases (or of one alias), oldest first.
    pub async fn alias_history(
        &self,
        project: &str,
        model: &str,
        alias: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<AliasEvent>> {
        let mut conn = self.inner.read.acquire().await?;
        let row = model_row(&mut conn, project, model).await?;
        let rows = sqlx::query(
            "SELECT h.id, h.alias, ov.version AS old_version, nv.version AS new_version, h.created_by, h.created_at, h.evidence \
             FROM model_alias_history h LEFT JOIN model_versions ov ON ov.id = h.old_version_id \
             LEFT JOIN model_versions nv ON nv.id = h.new_version_id \
             WHERE h.model_id = $1 AND ($2 = '' OR h.alias = $2) AND h.id > $3 ORDER BY h.id LIMIT $4",
        )
        .bind(row.id)
        .bind(alias.unwrap_or(""))
        .bind(page.after_key())
        .bind(page.fetch())
        .fetch_all(&mut *conn)
        .await?;
        let events = rows
            .iter()
            .map(|r| {
                Ok(AliasEvent {
                    id: r.try_get("id")?,
                    alias: r.try_get("alias")?,
                    old_version: r.try_get("old_version")?,
                    new_version: r.try_get("new_version")?,
                    actor: r.try_get("created_by")?,
                    at: r.try_get("created_at")?,
                    evidence: r
                        .try_get::<Option<String>, _>("evidence")?
                        .map(|e| serde_json::from_str(&e).unwrap_or(serde_json::Value::String(e))),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(events, page, |e| e.id))
    }
}

/// A model version may only come from a run of the model's own project.
fn check_run_project(run: &crate::model::Run, project: &str) -> Result<()> {
    if run.project != project {
        return Err(Error::Conflict(format!(
            "run {} is not a run of project '{project}', the model's",
            run.uuid
        )));
    }
    Ok(())
}

/// One alias move: the model, the alias, from and to which version, and its evidence.
struct AliasChange<'a> {
    model_id: i64,
    alias: &'a str,
    old: Option<i64>,
    new: Option<i64>,
    evidence: Option<&'a serde_json::Value>,
}

async fn record_alias_event(
    conn: &mut AnyConnection,
    change: &AliasChange<'_>,
    actor: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO model_alias_history (model_id, alias, old_version_id, new_version_id, created_by, created_at, evidence) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(change.model_id)
    .bind(change.alias)
    .bind(change.old)
    .bind(change.new)
    .bind(actor)
    .bind(now)
    .bind(change.evidence.map(|e| e.to_string()))
    .execute(conn)
    .await?;
    Ok(())
}
