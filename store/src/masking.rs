//! Column masking: which columns of a dataset readers below its sensitivity see only as a
//! keyed hash (`masked`) or not at all (`hidden`), and the per-project key of that hash. The
//! key is created on first use and no route returns it; the hashing itself is the monitor
//! crate's.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::audit::{Actor, NewEvent, append};
use crate::datasets::dataset_id;
use crate::db::{LockTable, lock_row};
use crate::projects::project_id;
use crate::{Error, Result, Store, now_ms};

/// Most columns one dataset's masking may name.
pub const MAX_MASKED_COLUMNS: usize = 1000;

/// How a column is shown to readers below the dataset's sensitivity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MaskMode {
    /// Replaced by a keyed hash of its value: equal values stay equal, so joins still work.
    Masked,
    /// Left out.
    Hidden,
}

impl MaskMode {
    /// `masked` or `hidden`.
    pub fn as_str(&self) -> &'static str {
        match self {
            MaskMode::Masked => "masked",
            MaskMode::Hidden => "hidden",
        }
    }
}

impl fmt::Display for MaskMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MaskMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "masked" => Ok(MaskMode::Masked),
            "hidden" => Ok(MaskMode::Hidden),
            other => Err(Error::invalid(format!(
                "unknown mask mode '{other}': use `masked` or `hidden`"
            ))),
        }
    }
}

/// A dataset's masking: column name → mode. Empty when nothing is masked, and then readers
/// below the dataset's sensitivity see nothing of it.
pub type ColumnMasks = BTreeMap<String, MaskMode>;

/// A dataset's masking as stored, with who last changed it.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetMasking {
    /// Column name → mode.
    pub columns: ColumnMasks,
    /// Who last set it (`None` when never set).
    pub updated_by: Option<String>,
    /// When (ms; `None` when never set).
    pub updated_at: Option<i64>,
}

/// The column names of a dataset version's stored schema (`{"fields": [{"name": ...}]}`).
fn schema_columns(schema_json: &str) -> Result<Vec<String>> {
    let schema: serde_json::Value = serde_json::from_str(schema_json)
        .map_err(|e| Error::Internal(format!("a stored schema is not JSON: {e}")))?;
    Ok(schema["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .filter_map(|f| f["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// The columns of any of the dataset's versions (a column renamed or dropped later can still
/// be masked in the versions that have it); refused when it has no version.
async fn known_columns(conn: &mut AnyConnection, dataset: i64, name: &str) -> Result<Vec<String>> {
    let schemas: Vec<String> =
        sqlx::query_scalar("SELECT schema_json FROM dataset_versions WHERE dataset_id = $1")
            .bind(dataset)
            .fetch_all(&mut *conn)
            .await?;
    if schemas.is_empty() {
        return Err(Error::invalid(format!(
            "dataset '{name}' has no version yet: masking names columns of its versions"
        )));
    }
    let mut known = std::collections::BTreeSet::new();
    for schema in &schemas {
        known.extend(schema_columns(schema)?);
    }
    Ok(known.into_iter().collect())
}

async fn masks_of(conn: &mut AnyConnection, dataset: i64) -> Result<DatasetMasking> {
    let rows = sqlx::query(
        "SELECT column_name, mode, updated_by, updated_at FROM dataset_column_masks \
         WHERE dataset_id = $1 ORDER BY column_name",
    )
    .bind(dataset)
    .fetch_all(&mut *conn)
    .await?;
    let mut masking = DatasetMasking {
        columns: ColumnMasks::new(),
        updated_by: None,
        updated_at: None,
    };
    for row in &rows {
        let mode: String = row.try_get("mode")?;
        masking
            .columns
            .insert(row.try_get("column_name")?, mode.parse()?);
        let at: i64 = row.try_get("updated_at")?;
        if masking.updated_at.is_none_or(|seen| at > seen) {
            masking.updated_at = Some(at);
            masking.updated_by = Some(row.try_get("updated_by")?);
        }
    }
    Ok(masking)
}

impl Store {
    /// A dataset's masking (empty when none is set).
    pub async fn dataset_masking(&self, project: &str, dataset: &str) -> Result<DatasetMasking> {
        let mut conn = self.inner.read.acquire().await?;
        let ds = dataset_id(&mut conn, project, dataset).await?;
        masks_of(&mut conn, ds).await
    }

    /// Replaces a dataset's masking. Every column must be one of its versions' (an empty set
    /// clears the masking). Audited as `dataset.masking`.
    pub async fn set_dataset_masking(
        &self,
        project: &str,
        dataset: &str,
        columns: &ColumnMasks,
        actor: &Actor,
    ) -> Result<DatasetMasking> {
        if columns.len() > MAX_MASKED_COLUMNS {
            return Err(Error::invalid(format!(
                "masking names {} columns; at most {MAX_MASKED_COLUMNS}",
                columns.len()
            )));
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let ds = dataset_id(&mut tx, project, dataset).await?;
        lock_row(&mut tx, self.inner.backend, LockTable::Datasets, ds).await?;
        if !columns.is_empty() {
            let known = known_columns(&mut tx, ds, dataset).await?;
            let unknown: Vec<&str> = columns
                .keys()
                .filter(|c| !known.contains(c))
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                return Err(Error::invalid(format!(
                    "unknown column{} to mask: {} (the versions of '{dataset}' have: {})",
                    if unknown.len() == 1 { "" } else { "s" },
                    unknown.join(", "),
                    known.join(", ")
                )));
            }
        }
        sqlx::query("DELETE FROM dataset_column_masks WHERE dataset_id = $1")
            .bind(ds)
            .execute(&mut *tx)
            .await?;
        insert_masks(&mut tx, ds, columns, actor, now).await?;
        let event = masking_event(project, dataset, columns, None);
        append(&mut tx, self.inner.backend, actor, event).await?;
        let masking = masks_of(&mut tx, ds).await?;
        tx.commit().await?;
        Ok(masking)
    }

    /// Gives `to` the masks `from` has on the columns it copies (a derived dataset such as an
    /// evaluation's predictions): `copies` pairs a column of `from` with the column of `to`
    /// that holds its values. A copied column's mode is raised to the source's, never lowered.
    /// Audited as `dataset.masking` when anything changes.
    pub async fn inherit_masking(
        &self,
        project: &str,
        from: &str,
        to: &str,
        copies: &[(&str, &str)],
        actor: &Actor,
    ) -> Result<DatasetMasking> {
        let mut tx = self.begin_write().await?;
        let source = dataset_id(&mut tx, project, from).await?;
        let target = dataset_id(&mut tx, project, to).await?;
        lock_row(&mut tx, self.inner.backend, LockTable::Datasets, target).await?;
        let inherited = masks_of(&mut tx, source).await?.columns;
        let mut existing = masks_of(&mut tx, target).await?;
        // Each copied column is raised (never lowered) to the source's mode.
        let mut changed = ColumnMasks::new();
        for (source_column, target_column) in copies {
            let Some(mode) = inherited.get(*source_column) else {
                continue;
            };
            let shown = changed
                .get(*target_column)
                .or_else(|| existing.columns.get(*target_column));
            if shown.is_none_or(|shown| shown < mode) {
                changed.insert((*target_column).to_owned(), *mode);
            }
        }
        if changed.is_empty() {
            return Ok(existing);
        }
        for column in changed.keys() {
            sqlx::query(
                "DELETE FROM dataset_column_masks WHERE dataset_id = $1 AND column_name = $2",
            )
            .bind(target)
            .bind(column)
            .execute(&mut *tx)
            .await?;
        }
        insert_masks(&mut tx, target, &changed, actor, now_ms()).await?;
        let event = masking_event(project, to, &changed, Some(from));
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        existing.columns.extend(changed);
        Ok(existing)
    }

    /// The project's masking key (32 bytes), created on first use. Never leaves the server.
    pub async fn mask_key(&self, project: &str) -> Result<[u8; 32]> {
        let mut conn = self.inner.read.acquire().await?;
        let id = project_id(&mut conn, project).await?;
        if let Some(key) = stored_key(&mut conn, id).await? {
            return Ok(key);
        }
        drop(conn);
        let mut fresh = [0u8; 32];
        getrandom::fill(&mut fresh)
            .map_err(|e| Error::Internal(format!("no random bytes for a masking key: {e}")))?;
        let mut tx = self.begin_write().await?;
        // Two servers may race to create it: the first insert wins and both read it back.
        sqlx::query(
            "INSERT INTO project_mask_keys (project_id, mask_key, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (project_id) DO NOTHING",
        )
        .bind(id)
        .bind(hex::encode(fresh))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let key = stored_key(&mut tx, id).await?;
        tx.commit().await?;
        key.ok_or_else(|| Error::Internal("the masking key was not stored".into()))
    }
}

async fn insert_masks(
    conn: &mut AnyConnection,
    dataset: i64,
    columns: &ColumnMasks,
    actor: &Actor,
    now: i64,
) -> Result<()> {
    for (column, mode) in columns {
        sqlx::query(
            "INSERT INTO dataset_column_masks (dataset_id, column_name, mode, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(dataset)
        .bind(column)
        .bind(mode.as_str())
        .bind(&actor.principal)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The audit event of a masking change (`inherited_from`: the dataset it came from).
fn masking_event(
    project: &str,
    dataset: &str,
    columns: &ColumnMasks,
    inherited_from: Option<&str>,
) -> NewEvent {
    let listed: BTreeMap<&str, &str> = columns
        .iter()
        .map(|(c, m)| (c.as_str(), m.as_str()))
        .collect();
    let details = match inherited_from {
        Some(from) => json!({ "columns": listed, "inherited_from": from }),
        None => json!({ "columns": listed }),
    };
    NewEvent::success(
        "dataset.masking",
        format!("project/{project}/dataset/{dataset}"),
        Some(project),
        details,
    )
}

async fn stored_key(conn: &mut AnyConnection, project: i64) -> Result<Option<[u8; 32]>> {
    let hex_key: Option<String> =
        sqlx::query_scalar("SELECT mask_key FROM project_mask_keys WHERE project_id = $1")
            .bind(project)
            .fetch_optional(&mut *conn)
            .await?;
    hex_key
        .map(|h| {
            hex::decode(&h)
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .ok_or_else(|| Error::Internal("a stored masking key is malformed".into()))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_refuse_others() {
        assert_eq!("masked".parse::<MaskMode>().ok(), Some(MaskMode::Masked));
        assert_eq!("hidden".parse::<MaskMode>().ok(), Some(MaskMode::Hidden));
        assert!("Masked".parse::<MaskMode>().is_err());
        assert!("".parse::<MaskMode>().is_err());
    }

    #[test]
    fn schema_columns_are_read_from_the_stored_schema() {
        let columns = schema_columns(
            r#"{"fields":[{"name":"a","data_type":"Int64","nullable":true},{"name":"b c"}]}"#,
        )
        .unwrap_or_default();
        assert_eq!(columns, vec!["a".to_owned(), "b c".to_owned()]);
        assert!(schema_columns("not json").is_err());
    }
}
