//! Compliance reports and documentation: what people wrote about a model version or a dataset
//! version (the fields a report cannot fill from the registry), and generated reports, each an
//! immutable record whose files (JSON, HTML, PDF) are stored by content hash. Composing a
//! report is the API's; this module stores it, audited with its hashes.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::audit::{Actor, NewEvent, append};
use crate::blob::StagedBlob;
use crate::model::Page;
use crate::projects::project_id;
use crate::{Error, PageRequest, Result, Store, now_ms};

/// Longest documentation field, in bytes.
pub const MAX_FIELD_BYTES: usize = 20_000;

/// What a report documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportKind {
    /// A model version's model card (Model Card Toolkit sections).
    ModelCard,
    /// A dataset version's datasheet (Datasheets for Datasets).
    Datasheet,
    /// A model version's EU AI Act Annex IV technical documentation.
    AnnexIv,
    /// The audit trail of a resource over a time range.
    AuditExport,
}

impl ReportKind {
    /// Every kind.
    pub const ALL: [ReportKind; 4] = [
        ReportKind::ModelCard,
        ReportKind::Datasheet,
        ReportKind::AnnexIv,
        ReportKind::AuditExport,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::ModelCard => "model_card",
            ReportKind::Datasheet => "datasheet",
            ReportKind::AnnexIv => "annex_iv",
            ReportKind::AuditExport => "audit_export",
        }
    }
}

impl fmt::Display for ReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReportKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown report kind '{s}' (expected one of: model_card, datasheet, annex_iv, audit_export)"
                ))
            })
    }
}

/// A report file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportFormat {
    /// The structured document.
    Json,
    /// A self-contained, print-friendly page.
    Html,
    /// The same document as PDF.
    Pdf,
}

impl ReportFormat {
    /// Every format.
    pub const ALL: [ReportFormat; 3] = [ReportFormat::Json, ReportFormat::Html, ReportFormat::Pdf];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Json => "json",
            ReportFormat::Html => "html",
            ReportFormat::Pdf => "pdf",
        }
    }

    /// The media type the file is served as.
    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Json => "application/json",
            ReportFormat::Html => "text/html; charset=utf-8",
            ReportFormat::Pdf => "application/pdf",
        }
    }
}

impl FromStr for ReportFormat {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown report format '{s}' (expected one of: json, html, pdf)"
                ))
            })
    }
}

/// What documentation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentedKind {
    /// A model version (by id).
    ModelVersion,
    /// A dataset version (by id).
    DatasetVersion,
}

impl DocumentedKind {
    fn as_str(self) -> &'static str {
        match self {
            DocumentedKind::ModelVersion => "model_version",
            DocumentedKind::DatasetVersion => "dataset_version",
        }
    }
}

/// One documentation field as written.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentedField {
    /// The text.
    pub value: String,
    /// Who wrote it last.
    pub updated_by: String,
    /// When (ms).
    pub updated_at: i64,
}

/// One stored file of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFile {
    /// Its format.
    pub format: ReportFormat,
    /// Lower-case hex SHA-256 of its bytes.
    pub content_hash: String,
    /// Size in bytes.
    pub byte_size: i64,
}

/// A generated report.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplianceReport {
    /// Id.
    pub id: i64,
    /// Project name.
    pub project: String,
    /// What it documents.
    pub kind: ReportKind,
    /// The documented resource, e.g. `model/churn/version/3`.
    pub subject: String,
    /// The model version documented, if any.
    pub model_version_id: Option<i64>,
    /// The dataset version documented, if any.
    pub dataset_version_id: Option<i64>,
    /// Its title.
    pub title: String,
    /// Datasets whose derived figures it quotes (reading it needs `report.read` on each).
    pub quoted_datasets: Vec<String>,
    /// Fields only a person can write that were missing when it was generated.
    pub missing_fields: i64,
    /// Its files, in [`ReportFormat::ALL`] order.
    pub files: Vec<ReportFile>,
    /// Who generated it.
    pub created_by: String,
    /// When (ms).
    pub created_at: i64,
}

impl ComplianceReport {
    /// The file of `format`.
    pub fn file(&self, format: ReportFormat) -> Option<&ReportFile> {
        self.files.iter().find(|f| f.format == format)
    }
}

/// A report to record; its files are staged already.
#[derive(Debug, Clone)]
pub struct NewComplianceReport {
    /// Project name.
    pub project: String,
    /// What it documents.
    pub kind: ReportKind,
    /// The documented resource, e.g. `model/churn/version/3`.
    pub subject: String,
    /// The model version documented, if any.
    pub model_version_id: Option<i64>,
    /// The dataset version documented, if any.
    pub dataset_version_id: Option<i64>,
    /// Its title.
    pub title: String,
    /// Datasets whose derived figures it quotes.
    pub quoted_datasets: Vec<String>,
    /// Fields only a person can write that are missing.
    pub missing_fields: i64,
    /// Its files.
    pub files: Vec<(ReportFormat, StagedBlob)>,
}

/// Filters of a report listing.
#[derive(Debug, Clone, Default)]
pub struct ComplianceFilter {
    /// Only this kind.
    pub kind: Option<ReportKind>,
    /// Only reports on this subject.
    pub subject: Option<String>,
}

const SELECT: &str = "SELECT r.id, p.name AS project, r.kind, r.subject, r.model_version_id, \
     r.dataset_version_id, r.title, r.quoted_datasets, r.missing_fields, r.created_by, r.created_at \
     FROM compliance_reports r JOIN projects p ON p.id = r.project_id";

fn report_from_row(row: &sqlx::any::AnyRow) -> Result<ComplianceReport> {
    let kind: String = row.try_get("kind")?;
    let quoted: String = row.try_get("quoted_datasets")?;
    Ok(ComplianceReport {
        id: row.try_get("id")?,
        project: row.try_get("project")?,
        kind: kind.parse()?,
        subject: row.try_get("subject")?,
        model_version_id: row.try_get("model_version_id")?,
        dataset_version_id: row.try_get("dataset_version_id")?,
        title: row.try_get("title")?,
        quoted_datasets: serde_json::from_str(&quoted)
            .map_err(|e| Error::Internal(format!("report datasets: {e}")))?,
        missing_fields: row.try_get("missing_fields")?,
        files: Vec::new(),
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

async fn with_files(
    conn: &mut AnyConnection,
    mut report: ComplianceReport,
) -> Result<ComplianceReport> {
    let rows = sqlx::query(
        "SELECT format, content_hash, byte_size FROM compliance_report_files WHERE report_id = $1",
    )
    .bind(report.id)
    .fetch_all(conn)
    .await?;
    let mut files = Vec::with_capacity(rows.len());
    for row in rows {
        let format: String = row.try_get("format")?;
        files.push(ReportFile {
            format: format.parse()?,
            content_hash: row.try_get("content_hash")?,
            byte_size: row.try_get("byte_size")?,
        });
    }
    files.sort_by_key(|f| f.format);
    report.files = files;
    Ok(report)
}

impl Store {
    /// The documentation of a model version or dataset version (by id), by field.
    pub async fn documentation(
        &self,
        kind: DocumentedKind,
        id: i64,
    ) -> Result<BTreeMap<String, DocumentedField>> {
        let rows = sqlx::query(
            "SELECT field, value, updated_by, updated_at FROM documentation_fields \
             WHERE subject_kind = $1 AND subject_id = $2",
        )
        .bind(kind.as_str())
        .bind(id)
        .fetch_all(&self.inner.read)
        .await?;
        let mut fields = BTreeMap::new();
        for row in rows {
            fields.insert(
                row.try_get("field")?,
                DocumentedField {
                    value: row.try_get("value")?,
                    updated_by: row.try_get("updated_by")?,
                    updated_at: row.try_get("updated_at")?,
                },
            );
        }
        Ok(fields)
    }

    /// Writes documentation fields of a model version or dataset version (by id): a text
    /// replaces the field, an empty text clears it. Field names are the caller's to check.
    /// Audited as `documentation.update` on `resource` of `project`.
    pub async fn set_documentation(
        &self,
        project: &str,
        (kind, id): (DocumentedKind, i64),
        resource: &str,
        fields: &BTreeMap<String, String>,
        actor: &Actor,
    ) -> Result<BTreeMap<String, DocumentedField>> {
        for (field, value) in fields {
            if value.len() > MAX_FIELD_BYTES {
                return Err(Error::invalid(format!(
                    "field '{field}' is longer than {MAX_FIELD_BYTES} bytes"
                )));
            }
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        for (field, value) in fields {
            // An empty text clears the field.
            let clear = value.trim().is_empty();
            let sql = if clear {
                "DELETE FROM documentation_fields WHERE subject_kind = $1 AND subject_id = $2 AND field = $3"
            } else {
                "INSERT INTO documentation_fields (subject_kind, subject_id, field, value, updated_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (subject_kind, subject_id, field) DO UPDATE SET \
                 value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at"
            };
            let mut query = sqlx::query(sql).bind(kind.as_str()).bind(id).bind(field);
            if !clear {
                query = query.bind(value).bind(&actor.principal).bind(now);
            }
            query.execute(&mut *tx).await?;
        }
        let names: Vec<&String> = fields.keys().collect();
        let event = NewEvent::success(
            "documentation.update",
            format!("project/{project}/{resource}"),
            Some(project),
            json!({"fields": names}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        self.documentation(kind, id).await
    }

    /// Records a generated report: its staged files are committed to their content
    /// addresses, then the report is written and audited as `compliance.report` (with every
    /// file's hash, so the audit chain vouches for them). Counts against the project's quota.
    pub async fn add_compliance_report(
        &self,
        new: NewComplianceReport,
        actor: &Actor,
    ) -> Result<ComplianceReport> {
        let result = self.record_compliance_report(&new, actor).await;
        for (_, staged) in &new.files {
            if let Err(e) = self.inner.blobs.discard(staged).await {
                tracing::warn!(error = %e, "discarding a staged report file failed");
            }
        }
        result
    }

    async fn record_compliance_report(
        &self,
        new: &NewComplianceReport,
        actor: &Actor,
    ) -> Result<ComplianceReport> {
        let bytes: u64 = new.files.iter().map(|(_, f)| f.byte_size).sum();
        {
            let mut conn = self.inner.read.acquire().await?;
            self.check_quota(&mut conn, &new.project, bytes, false)
                .await?;
        }
        for (_, staged) in &new.files {
            self.inner.blobs.commit(staged).await?;
        }
        let mut tx = self.begin_write().await?;
        let project = project_id(&mut tx, &new.project).await?;
        self.check_quota(&mut tx, &new.project, bytes, true).await?;
        let quoted = serde_json::to_string(&new.quoted_datasets).unwrap_or_else(|_| "[]".into());
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO compliance_reports (project_id, kind, subject, model_version_id, dataset_version_id, \
             title, quoted_datasets, missing_fields, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(project)
        .bind(new.kind.as_str())
        .bind(&new.subject)
        .bind(new.model_version_id)
        .bind(new.dataset_version_id)
        .bind(&new.title)
        .bind(quoted)
        .bind(new.missing_fields)
        .bind(&actor.principal)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        let mut hashes = serde_json::Map::new();
        for (format, staged) in &new.files {
            let size = i64::try_from(staged.byte_size)
                .map_err(|_| Error::invalid("report file too large"))?;
            sqlx::query(
                "INSERT INTO compliance_report_files (report_id, format, content_hash, byte_size) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(format.as_str())
            .bind(&staged.content_hash)
            .bind(size)
            .execute(&mut *tx)
            .await?;
            hashes.insert(format.as_str().to_owned(), json!(staged.content_hash));
        }
        let event = NewEvent::success(
            "compliance.report",
            format!("project/{}/{}", new.project, new.subject),
            Some(&new.project),
            json!({"report_id": id, "kind": new.kind.as_str(), "sha256": hashes}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE r.id = $1")))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let report = with_files(&mut tx, report_from_row(&row)?).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// A report of `project` by id.
    pub async fn compliance_report(&self, project: &str, id: i64) -> Result<ComplianceReport> {
        let mut conn = self.inner.read.acquire().await?;
        let project_row = project_id(&mut conn, project).await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE r.id = $1 AND r.project_id = $2"
        )))
        .bind(id)
        .bind(project_row)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| Error::not_found("compliance_report", id))?;
        with_files(&mut conn, report_from_row(&row)?).await
    }

    /// A project's reports, newest first.
    pub async fn list_compliance_reports(
        &self,
        project: &str,
        filter: &ComplianceFilter,
        page: &PageRequest,
    ) -> Result<Page<ComplianceReport>> {
        let mut conn = self.inner.read.acquire().await?;
        let project_row = project_id(&mut conn, project).await?;
        let mut sql = format!("{SELECT} WHERE r.project_id = $1 AND r.id < $2");
        let mut next = 3;
        if filter.kind.is_some() {
            sql.push_str(&format!(" AND r.kind = ${next}"));
            next += 1;
        }
        if filter.subject.is_some() {
            sql.push_str(&format!(" AND r.subject = ${next}"));
            next += 1;
        }
        sql.push_str(&format!(" ORDER BY r.id DESC LIMIT ${next}"));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(project_row)
            .bind(page.before_key());
        if let Some(kind) = filter.kind {
            query = query.bind(kind.as_str());
        }
        if let Some(subject) = &filter.subject {
            query = query.bind(subject.clone());
        }
        let rows = query.bind(page.fetch()).fetch_all(&mut *conn).await?;
        let mut reports = Vec::with_capacity(rows.len());
        for row in &rows {
            reports.push(with_files(&mut conn, report_from_row(row)?).await?);
        }
        Ok(Page::from_rows(reports, page, |r| r.id))
    }
}
