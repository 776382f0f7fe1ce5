//! Compliance reports: model cards, datasheets, EU AI Act Annex IV documentation and
//! audit-trail exports, composed from the registry into one [`Document`] and stored in three
//! forms (JSON, self-contained HTML, PDF), each an immutable, hashed file, so that a report
//! is itself evidence (its hashes are in the audit trail). docs/compliance.md.

pub mod annex_iv;
pub mod audit_trail;
pub mod datasheet;
pub mod document;
pub mod fields;
mod html;
pub mod model_card;
pub mod model_facts;
mod pdf;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use verity_store::compliance::{ComplianceReport, NewComplianceReport, ReportFormat, ReportKind};
use verity_store::{Actor, Store};

pub use document::Document;

use crate::error::ApiResult;

/// The software named in every report.
pub const GENERATOR: &str = concat!("Verity ", env!("CARGO_PKG_VERSION"));

/// Where a report's facts point, besides its document.
pub struct Subject {
    /// The model version documented, if any.
    pub model_version_id: Option<i64>,
    /// The dataset version documented, if any.
    pub dataset_version_id: Option<i64>,
    /// Datasets whose derived figures it quotes.
    pub quoted_datasets: Vec<String>,
}

/// Renders `doc` in every format and records it.
pub async fn store_report(
    store: &Store,
    kind: ReportKind,
    mut doc: Document,
    subject: Subject,
    actor: &Actor,
) -> ApiResult<ComplianceReport> {
    doc.note_missing();
    let json = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    let json_sha256 = hex::encode(Sha256::digest(&json));
    let html = html::render(&doc, &json_sha256).into_bytes();
    let pdf = pdf::render(&doc, &json_sha256);
    let mut files = Vec::with_capacity(3);
    for (format, bytes) in [
        (ReportFormat::Json, json),
        (ReportFormat::Html, html),
        (ReportFormat::Pdf, pdf),
    ] {
        let stream =
            futures::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(bytes)) });
        files.push((format, store.blobs().stage(stream).await?));
    }
    let new = NewComplianceReport {
        project: doc.project.clone(),
        kind,
        subject: doc.subject.clone(),
        model_version_id: subject.model_version_id,
        dataset_version_id: subject.dataset_version_id,
        title: doc.title.clone(),
        quoted_datasets: subject.quoted_datasets,
        missing_fields: doc.missing_fields.len() as i64,
        files,
    };
    Ok(store.add_compliance_report(new, actor).await?)
}
