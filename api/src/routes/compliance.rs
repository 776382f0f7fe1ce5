//! Compliance reports over HTTP: the documentation people write for a model version or a
//! dataset version, generating a report (model card, datasheet, Annex IV, audit export),
//! listing them, and reading a stored report in JSON, HTML or PDF.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_monitor::masking::Masker;
use verity_monitor::source::{Session, Source};
use verity_policy::Action;
use verity_store::compliance::{
    ComplianceFilter, ComplianceReport, DocumentedField, DocumentedKind, ReportFormat, ReportKind,
};
use verity_store::model::{Direction, NodeKind};
use verity_store::{AuditFilter, Monitor, PageRequest, ReportFilter};

use crate::auth::{Caller, Target};
use crate::compliance::annex_iv::{self, AnnexFacts};
use crate::compliance::audit_trail::{self, AuditRange, MAX_EVENTS};
use crate::compliance::datasheet::{self, DatasheetFacts, Statistics, is_sensitive};
use crate::compliance::document::Document;
use crate::compliance::fields::{DATASET_VERSION_FIELDS, HumanField, MODEL_VERSION_FIELDS};
use crate::compliance::model_card;
use crate::compliance::model_facts::ModelFacts;
use crate::compliance::{GENERATOR, Subject, store_report};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::routes::clearance::{authorize_datasets, datasets};
use crate::routes::privacy::{DpQueryRequest, answer_dp, authorize_dataset};
use crate::state::AppState;
use crate::wire::{ListResponse, PageQuery, read_pages};

type VersionPath = Path<(String, String, i64)>;

/// Most DP questions one datasheet may ask.
const MAX_DP_QUESTIONS: usize = 20;

/// One documentation field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldResponse {
    /// Stable key.
    pub key: String,
    /// Label.
    pub label: String,
    /// What it should say.
    pub guidance: String,
    /// The text; absent while missing.
    pub value: Option<String>,
    /// Who wrote it last.
    pub updated_by: Option<String>,
    /// When (ms).
    pub updated_at: Option<i64>,
}

/// A version's documentation: every field, written or missing.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentationResponse {
    /// The fields in report order.
    pub fields: Vec<FieldResponse>,
    /// How many are missing.
    pub missing: usize,
}

fn documentation_response(
    fields: &[HumanField],
    written: &BTreeMap<String, DocumentedField>,
) -> DocumentationResponse {
    let fields: Vec<FieldResponse> = fields
        .iter()
        .map(|f| {
            let found = written.get(f.key);
            FieldResponse {
                key: f.key.to_owned(),
                label: f.label.to_owned(),
                guidance: f.guidance.to_owned(),
                value: found.map(|d| d.value.clone()),
                updated_by: found.map(|d| d.updated_by.clone()),
                updated_at: found.map(|d| d.updated_at),
            }
        })
        .collect();
    let missing = fields.iter().filter(|f| f.value.is_none()).count();
    DocumentationResponse { fields, missing }
}

/// Body of `PUT .../documentation`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetDocumentation {
    /// Field key → text; an empty text clears the field. Keys are those `GET` lists.
    pub fields: BTreeMap<String, String>,
}

fn check_fields(known: &[HumanField], body: &SetDocumentation) -> ApiResult<()> {
    if body.fields.is_empty() {
        return Err(ApiError::bad_request("fields: name at least one field"));
    }
    for key in body.fields.keys() {
        if !known.iter().any(|f| f.key == key) {
            let names: Vec<&str> = known.iter().map(|f| f.key).collect();
            return Err(ApiError::bad_request(format!(
                "unknown documentation field '{key}' (expected one of: {})",
                names.join(", ")
            )));
        }
    }
    Ok(())
}

/// A model version's documentation (model card and Annex IV fields; every member).
#[utoipa::path(get, path = "/api/v1/projects/{project}/models/{model}/versions/{version}/documentation", tag = "compliance",
    params(("project" = String, Path), ("model" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = DocumentationResponse), (status = 404, body = ErrorBody)))]
pub async fn model_documentation(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, model, version)): VersionPath,
) -> ApiResult<Json<DocumentationResponse>> {
    caller
        .authorize(&state, Action::ModelRead, &Target::project(&project))
        .await?;
    let v = state.get_model_version(&project, &model, version).await?;
    let written = state
        .documentation(DocumentedKind::ModelVersion, v.id)
        .await?;
    Ok(Json(documentation_response(MODEL_VERSION_FIELDS, &written)))
}

/// Writes fields of a model version's documentation (who may change the version). Audited as
/// `documentation.update`.
#[utoipa::path(put, path = "/api/v1/projects/{project}/models/{model}/versions/{version}/documentation", tag = "compliance",
    request_body = SetDocumentation,
    params(("project" = String, Path), ("model" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = DocumentationResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_model_documentation(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, model, version)): VersionPath,
    Json(body): Json<SetDocumentation>,
) -> ApiResult<Json<DocumentationResponse>> {
    caller
        .authorize(
            &state,
            Action::ModelVersionUpdate,
            &Target::project(&project),
        )
        .await?;
    check_fields(MODEL_VERSION_FIELDS, &body)?;
    let v = state.get_model_version(&project, &model, version).await?;
    let written = state
        .set_documentation(
            &project,
            (DocumentedKind::ModelVersion, v.id),
            &format!("model/{model}/version/{version}"),
            &body.fields,
            &caller.actor,
        )
        .await?;
    Ok(Json(documentation_response(MODEL_VERSION_FIELDS, &written)))
}

/// A dataset version's documentation (datasheet fields; readers of the dataset).
#[utoipa::path(get, path = "/api/v1/projects/{project}/datasets/{dataset}/versions/{version}/documentation", tag = "compliance",
    params(("project" = String, Path), ("dataset" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = DocumentationResponse), (status = 404, body = ErrorBody)))]
pub async fn dataset_documentation(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, dataset, version)): VersionPath,
) -> ApiResult<Json<DocumentationResponse>> {
    authorize_dataset(&state, &caller, Action::DatasetRead, &project, &dataset).await?;
    let v = state
        .get_dataset_version(&project, &dataset, version)
        .await?;
    let written = state
        .documentation(DocumentedKind::DatasetVersion, v.id)
        .await?;
    Ok(Json(documentation_response(
        DATASET_VERSION_FIELDS,
        &written,
    )))
}

/// Writes fields of a dataset version's documentation (who may update the dataset). Audited
/// as `documentation.update`.
#[utoipa::path(put, path = "/api/v1/projects/{project}/datasets/{dataset}/versions/{version}/documentation", tag = "compliance",
    request_body = SetDocumentation,
    params(("project" = String, Path), ("dataset" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = DocumentationResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_dataset_documentation(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, dataset, version)): VersionPath,
    Json(body): Json<SetDocumentation>,
) -> ApiResult<Json<DocumentationResponse>> {
    authorize_dataset(&state, &caller, Action::DatasetUpdate, &project, &dataset).await?;
    check_fields(DATASET_VERSION_FIELDS, &body)?;
    let v = state
        .get_dataset_version(&project, &dataset, version)
        .await?;
    let written = state
        .set_documentation(
            &project,
            (DocumentedKind::DatasetVersion, v.id),
            &format!("dataset/{dataset}/version/{version}"),
            &body.fields,
            &caller.actor,
        )
        .await?;
    Ok(Json(documentation_response(
        DATASET_VERSION_FIELDS,
        &written,
    )))
}

/// Body of `POST .../compliance-reports`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateReport {
    /// `model_card`, `annex_iv` (with `model`, `version`), `datasheet` (with `dataset`,
    /// `version`, optionally `dp`) or `audit_export` (with `resource`, optionally `since`,
    /// `until`).
    pub kind: String,
    /// The model (model cards, Annex IV).
    #[serde(default)]
    pub model: Option<String>,
    /// The dataset (datasheets).
    #[serde(default)]
    pub dataset: Option<String>,
    /// The model or dataset version.
    #[serde(default)]
    pub version: Option<i64>,
    /// Datasheets of confidential or restricted data: the differentially private questions
    /// to answer in place of raw figures, as `POST .../dp` takes them (each charged).
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub dp: Option<Vec<DpQueryRequest>>,
    /// Audit exports: the resource, e.g. `project/p/model/churn` (events under it too).
    #[serde(default)]
    pub resource: Option<String>,
    /// Audit exports: from this time (ms, inclusive).
    #[serde(default)]
    pub since: Option<i64>,
    /// Audit exports: until this time (ms, exclusive).
    #[serde(default)]
    pub until: Option<i64>,
}

/// One stored file of a report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportFileResponse {
    /// `json`, `html` or `pdf`.
    pub format: String,
    /// Lower-case hex SHA-256 of its bytes.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: i64,
    /// Where to read it.
    pub url: String,
}

/// A stored compliance report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceReportResponse {
    /// Id.
    pub id: i64,
    /// `model_card`, `datasheet`, `annex_iv` or `audit_export`.
    pub kind: String,
    /// The documented resource, e.g. `model/churn/version/3`.
    pub subject: String,
    /// Title.
    pub title: String,
    /// Datasets whose derived figures it quotes (reading it needs `report.read` on each).
    pub quoted_datasets: Vec<String>,
    /// Fields only a person can write that were missing.
    pub missing_fields: i64,
    /// Its files; the JSON file's hash is the report's.
    pub files: Vec<ReportFileResponse>,
    /// The JSON form's SHA-256 (also in the audit trail's `compliance.report` event).
    pub sha256: String,
    /// Who generated it.
    pub created_by: String,
    /// When (ms).
    pub created_at: i64,
}

impl From<ComplianceReport> for ComplianceReportResponse {
    fn from(r: ComplianceReport) -> Self {
        let files: Vec<ReportFileResponse> = r
            .files
            .iter()
            .map(|f| ReportFileResponse {
                format: f.format.as_str().to_owned(),
                sha256: f.content_hash.clone(),
                bytes: f.byte_size,
                url: format!(
                    "/api/v1/projects/{}/compliance-reports/{}/{}",
                    r.project,
                    r.id,
                    f.format.as_str()
                ),
            })
            .collect();
        Self {
            id: r.id,
            kind: r.kind.as_str().to_owned(),
            sha256: r
                .file(ReportFormat::Json)
                .map(|f| f.content_hash.clone())
                .unwrap_or_default(),
            subject: r.subject,
            title: r.title,
            quoted_datasets: r.quoted_datasets,
            missing_fields: r.missing_fields,
            files,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

fn required<T: Clone>(value: &Option<T>, name: &str, kind: ReportKind) -> ApiResult<T> {
    value
        .clone()
        .ok_or_else(|| ApiError::bad_request(format!("a {kind} needs '{name}'")))
}

fn refuse_extra(body: &GenerateReport, kind: ReportKind, allowed: &[&str]) -> ApiResult<()> {
    let given = [
        ("model", body.model.is_some()),
        ("dataset", body.dataset.is_some()),
        ("version", body.version.is_some()),
        ("dp", body.dp.is_some()),
        ("resource", body.resource.is_some()),
        ("since", body.since.is_some()),
        ("until", body.until.is_some()),
    ];
    for (name, present) in given {
        if present && !allowed.contains(&name) {
            return Err(ApiError::bad_request(format!(
                "a {kind} does not take '{name}'"
            )));
        }
    }
    Ok(())
}

/// Generates a compliance report and stores it (JSON, HTML and PDF, each hashed; audited as
/// `compliance.report` with the hashes). Model cards and Annex IV documents need `model.read`
/// and `report.read` on every dataset they quote; datasheets `dataset.read`, plus `report.read`
/// for data below `confidential` (its profile) or `dataset.query_dp` for the DP questions of
/// sensitive data; audit exports `audit.read`. A retired version gets no new report.
#[utoipa::path(post, path = "/api/v1/projects/{project}/compliance-reports", tag = "compliance",
    request_body = GenerateReport,
    params(("project" = String, Path)),
    responses((status = 201, body = ComplianceReportResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "the version is retired, or the privacy budget cannot pay", body = ErrorBody)))]
pub async fn generate_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Json(body): Json<GenerateReport>,
) -> ApiResult<(StatusCode, Json<ComplianceReportResponse>)> {
    let kind: ReportKind = body.kind.parse()?;
    let (doc, subject) = match kind {
        ReportKind::ModelCard | ReportKind::AnnexIv => {
            refuse_extra(&body, kind, &["model", "version"])?;
            let model = required(&body.model, "model", kind)?;
            let version = required(&body.version, "version", kind)?;
            model_document(&state, &caller, &project, (&model, version), kind).await?
        }
        ReportKind::Datasheet => {
            refuse_extra(&body, kind, &["dataset", "version", "dp"])?;
            let dataset = required(&body.dataset, "dataset", kind)?;
            let version = required(&body.version, "version", kind)?;
            let dp = body.dp.unwrap_or_default();
            datasheet_document(&state, &caller, &project, (&dataset, version), dp).await?
        }
        ReportKind::AuditExport => {
            refuse_extra(&body, kind, &["resource", "since", "until"])?;
            let range = AuditRange {
                resource: required(&body.resource, "resource", kind)?,
                since: body.since,
                until: body.until,
            };
            audit_document(&state, &caller, &project, range).await?
        }
    };
    let report = store_report(&state, kind, doc, subject, &caller.actor).await?;
    Ok((StatusCode::CREATED, Json(report.into())))
}

fn document(
    kind: ReportKind,
    title: String,
    project: &str,
    subject: String,
    caller: &Caller,
) -> Document {
    Document {
        kind: kind.as_str(),
        title,
        project: project.to_owned(),
        subject,
        generated_at: verity_store::now_ms(),
        generated_by: caller.actor.principal.clone(),
        generator: GENERATOR.to_owned(),
        missing_fields: Vec::new(),
        sections: Vec::new(),
    }
}

async fn model_document(
    state: &AppState,
    caller: &Caller,
    project: &str,
    (model, version): (&str, i64),
    kind: ReportKind,
) -> ApiResult<(Document, Subject)> {
    caller
        .authorize(state, Action::ModelRead, &Target::project(project))
        .await?;
    let v = state.get_model_version(project, model, version).await?;
    if let Some(retired) = &v.retired {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "retired",
            format!(
                "{model} v{version} is retired ({}): its earlier reports stay readable, no new one is made",
                retired.reason
            ),
        ));
    }
    let facts = ModelFacts::gather(state, project, model, version).await?;
    let mut quoted = facts.quoted.clone();
    let annex = if kind == ReportKind::AnnexIv {
        let annex = annex_facts(state, project, &facts).await?;
        quoted.extend(annex.monitors.iter().map(|m| m.dataset.clone()));
        for m in &annex.monitors {
            if let Some(id) = m.reference_version_id {
                quoted.insert(state.get_dataset_version_by_id(id).await?.dataset);
            }
        }
        Some(annex)
    } else {
        None
    };
    let quoted_datasets = datasets(state, project, quoted.iter().cloned().collect()).await?;
    authorize_datasets(state, caller, Action::ReportRead, &quoted_datasets).await?;
    let subject = facts.subject();
    let mut doc = match &annex {
        Some(_) => document(
            kind,
            format!("EU AI Act Annex IV technical documentation: {model} v{version}"),
            project,
            subject,
            caller,
        ),
        None => document(
            kind,
            format!("Model card: {model} v{version}"),
            project,
            subject,
            caller,
        ),
    };
    doc.sections = match &annex {
        Some(a) => annex_iv::sections(&facts, a),
        None => model_card::sections(&facts),
    };
    Ok((
        doc,
        Subject {
            model_version_id: Some(facts.version.id),
            dataset_version_id: None,
            quoted_datasets: quoted.into_iter().collect(),
        },
    ))
}

/// What Annex IV adds: datasheets of the training data, monitors and open alerts on its data,
/// and the audit record of the model.
async fn annex_facts(state: &AppState, project: &str, facts: &ModelFacts) -> ApiResult<AnnexFacts> {
    let mut datasheets = Vec::new();
    for v in &facts.training {
        let filter = ComplianceFilter {
            kind: Some(ReportKind::Datasheet),
            subject: Some(format!("dataset/{}/version/{}", v.dataset, v.version)),
        };
        let newest = state
            .list_compliance_reports(project, &filter, &PageRequest::new(Some(1), None)?)
            .await?
            .items
            .into_iter()
            .next();
        datasheets.push((v.clone(), newest));
    }
    let data: BTreeSet<&str> = facts
        .training
        .iter()
        .map(|v| v.dataset.as_str())
        .chain(facts.evaluations.iter().map(|(r, _)| r.dataset.as_str()))
        .collect();
    let monitors: Vec<Monitor> = read_pages(usize::MAX, move |page| async move {
        state.list_monitors(project, &page).await
    })
    .await?
    .into_iter()
    .filter(|m| data.contains(m.dataset.as_str()))
    .collect();
    let names: BTreeSet<&str> = monitors.iter().map(|m| m.name.as_str()).collect();
    let open_alerts = read_pages(usize::MAX, move |page| async move {
        state.list_alerts(project, Some("open"), &page).await
    })
    .await?
    .into_iter()
    .filter(|a| names.contains(a.monitor.as_str()))
    .map(|a| (a.monitor, a.summary, a.opened_at))
    .collect();
    let filter = AuditFilter {
        project: Some(project.to_owned()),
        resource: Some(format!("project/{project}/model/{}", facts.version.model)),
        ..AuditFilter::default()
    };
    let filter = &filter;
    let events = read_pages(usize::MAX, move |page| async move {
        state.list_audit_events(filter, &page).await
    })
    .await?
    .len();
    let intact = state.verify_audit_chain().await?.is_intact();
    Ok(AnnexFacts {
        datasheets,
        monitors,
        open_alerts,
        audit: (events, intact),
    })
}

async fn datasheet_document(
    state: &AppState,
    caller: &Caller,
    project: &str,
    (dataset, version): (&str, i64),
    dp: Vec<DpQueryRequest>,
) -> ApiResult<(Document, Subject)> {
    let found = authorize_dataset(state, caller, Action::DatasetRead, project, dataset).await?;
    let v = state.get_dataset_version(project, dataset, version).await?;
    let sensitive = is_sensitive(&found);
    if !sensitive && !dp.is_empty() {
        return Err(ApiError::bad_request(format!(
            "'dp' is for confidential or restricted data; {dataset} is {}, and its datasheet carries its profile",
            found.sensitivity
        )));
    }
    if dp.len() > MAX_DP_QUESTIONS {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_DP_QUESTIONS} DP questions per datasheet"
        )));
    }
    let masks = state.dataset_masking(project, dataset).await?.columns;
    let statistics = if sensitive {
        let mut answers = Vec::new();
        for question in dp {
            let asked = question.query.clone();
            let answer = answer_dp(state, caller, (project, dataset, version), question).await?;
            answers.push((asked, answer.release, answer.charge.id));
        }
        Statistics::Private(answers)
    } else {
        authorize_datasets(
            state,
            caller,
            Action::ReportRead,
            std::slice::from_ref(&found),
        )
        .await?;
        let session =
            Session::new_with_limits(state.blobs().object_store(), state.check_limits.clone())?;
        let profile = verity_monitor::profile::profile(&session, &Source::of_version(&v)).await?;
        let mut profile = serde_json::to_value(&profile).unwrap_or_default();
        if !masks.is_empty() {
            let masker = Masker::new(state.mask_key(project).await?, masks.clone());
            verity_monitor::masking::mask_report(
                "profile",
                &mut serde_json::Value::Null,
                &mut profile,
                &masker,
            )?;
        }
        Statistics::Profile(profile)
    };
    let derived_from = match v.derived_from_id {
        Some(id) => Some(state.get_dataset_version_by_id(id).await?),
        None => None,
    };
    let node = v.id.to_string();
    let upstream = state
        .lineage(NodeKind::DatasetVersion, &node, Direction::Upstream, 2)
        .await?;
    let downstream = state
        .lineage(NodeKind::DatasetVersion, &node, Direction::Downstream, 2)
        .await?;
    let quality = quality_reports(state, project, v.id).await?;
    let written = state
        .documentation(DocumentedKind::DatasetVersion, v.id)
        .await?;
    let facts = DatasheetFacts {
        dataset: found.clone(),
        version: v.clone(),
        derived_from,
        masks,
        upstream,
        downstream,
        quality,
        statistics,
        written,
    };
    let mut doc = document(
        ReportKind::Datasheet,
        format!("Datasheet: {dataset} v{version}"),
        project,
        facts.subject(),
        caller,
    );
    doc.sections = datasheet::sections(&facts);
    // Quality results and the profile are derived from the rows: reading them back needs
    // clearance, unless the data is sensitive (DP figures only, and no quality details).
    let quoted = if sensitive {
        Vec::new()
    } else {
        vec![found.name.clone()]
    };
    Ok((
        doc,
        Subject {
            model_version_id: None,
            dataset_version_id: Some(v.id),
            quoted_datasets: quoted,
        },
    ))
}

/// Quality reports on dataset version `id`, newest first (at most 20).
async fn quality_reports(
    state: &AppState,
    project: &str,
    id: i64,
) -> ApiResult<Vec<verity_store::Report>> {
    let filter = ReportFilter {
        kind: Some("quality".into()),
        dataset_version_id: Some(id),
        ..ReportFilter::default()
    };
    let request = PageRequest::new(Some(20), None)?;
    Ok(state.list_reports(project, &filter, &request).await?.items)
}

async fn audit_document(
    state: &AppState,
    caller: &Caller,
    project: &str,
    range: AuditRange,
) -> ApiResult<(Document, Subject)> {
    verity_store::validate::name("project", project)?;
    caller
        .authorize(
            state,
            Action::AuditRead,
            &Target::in_project(project, format!("project/{project}/audit")),
        )
        .await?;
    let root = format!("project/{project}");
    if range.resource != root && !range.resource.starts_with(&format!("{root}/")) {
        return Err(ApiError::bad_request(format!(
            "resource must be {root} or under it, e.g. {root}/model/<name>"
        )));
    }
    if let (Some(since), Some(until)) = (range.since, range.until)
        && since >= until
    {
        return Err(ApiError::bad_request("'since' must be before 'until'"));
    }
    let filter = AuditFilter {
        project: Some(project.to_owned()),
        since: range.since,
        until: range.until,
        resource: Some(range.resource.clone()),
        ..AuditFilter::default()
    };
    let filter = &filter;
    let events = read_pages(MAX_EVENTS, move |page| async move {
        state.list_audit_events(filter, &page).await
    })
    .await?;
    if events.len() > MAX_EVENTS {
        return Err(ApiError::bad_request(format!(
            "more than {MAX_EVENTS} events on {} in this range: narrow it with 'since' and 'until'",
            range.resource
        )));
    }
    let chain = state.verify_audit_chain().await?;
    let mut doc = document(
        ReportKind::AuditExport,
        format!("Audit trail: {}", range.resource),
        project,
        range.subject(),
        caller,
    );
    doc.sections = audit_trail::sections(&range, &events, &chain);
    Ok((
        doc,
        Subject {
            model_version_id: None,
            dataset_version_id: None,
            quoted_datasets: Vec::new(),
        },
    ))
}

/// Whether `caller` may read `report` (recording a refusal when `record`).
async fn may_read(
    state: &AppState,
    caller: &Caller,
    report: &ComplianceReport,
    record: bool,
) -> ApiResult<bool> {
    let project = report.project.as_str();
    let mut checks: Vec<(Action, Target)> = Vec::new();
    match report.kind {
        ReportKind::ModelCard | ReportKind::AnnexIv => {
            checks.push((Action::ModelRead, Target::project(project)));
        }
        ReportKind::Datasheet => {
            checks.push((Action::DatasetRead, Target::project(project)));
            if let Some(id) = report.dataset_version_id {
                let version = state.get_dataset_version_by_id(id).await?;
                let dataset = state.get_dataset(project, &version.dataset).await?;
                checks.push((Action::DatasetRead, Target::dataset(&dataset)));
            }
        }
        ReportKind::AuditExport => checks.push((
            Action::AuditRead,
            Target::in_project(project, format!("project/{project}/audit")),
        )),
    }
    for dataset in datasets(state, project, report.quoted_datasets.clone()).await? {
        checks.push((Action::ReportRead, Target::dataset(&dataset)));
    }
    for (action, target) in checks {
        if record {
            caller.authorize(state, action, &target).await?;
        } else if !caller.can(state, action, &target)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Filters of a report listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportsQuery {
    /// Only this kind.
    pub kind: Option<String>,
    /// Only reports on this subject, e.g. `model/churn/version/3`.
    pub subject: Option<String>,
    /// Items per page (1..=1000, default 100).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A project's compliance reports, newest first: those the caller may read.
#[utoipa::path(get, path = "/api/v1/projects/{project}/compliance-reports", tag = "compliance",
    params(("project" = String, Path), ReportsQuery),
    responses((status = 200, body = ListResponse<ComplianceReportResponse>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_reports(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Query(query): Query<ReportsQuery>,
) -> ApiResult<Json<ListResponse<ComplianceReportResponse>>> {
    caller
        .authorize(&state, Action::ProjectRead, &Target::project(&project))
        .await?;
    let filter = ComplianceFilter {
        kind: query.kind.as_deref().map(str::parse).transpose()?,
        subject: query.subject.clone(),
    };
    let request = PageQuery::request_of(query.limit, query.cursor.clone())?;
    let page = state
        .list_compliance_reports(&project, &filter, &request)
        .await?;
    let next_cursor = page.next_cursor;
    let mut items = Vec::new();
    for report in page.items {
        if may_read(&state, &caller, &report, false).await? {
            items.push(report.into());
        }
    }
    Ok(Json(ListResponse { items, next_cursor }))
}

/// A stored report's record: its files and their hashes.
#[utoipa::path(get, path = "/api/v1/projects/{project}/compliance-reports/{id}", tag = "compliance",
    params(("project" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = ComplianceReportResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_report(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, id)): Path<(String, i64)>,
) -> ApiResult<Json<ComplianceReportResponse>> {
    caller
        .authorize(&state, Action::ProjectRead, &Target::project(&project))
        .await?;
    let report = state.compliance_report(&project, id).await?;
    may_read(&state, &caller, &report, true).await?;
    Ok(Json(report.into()))
}

/// Query of a report file.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FileQuery {
    /// Shown in the browser (`true`) rather than downloaded.
    #[serde(default)]
    pub inline: bool,
}

/// A stored report's file: `json`, `html` (self-contained, print-friendly) or `pdf`; the
/// `X-Content-SHA256` header carries its hash as recorded.
#[utoipa::path(get, path = "/api/v1/projects/{project}/compliance-reports/{id}/{format}", tag = "compliance",
    params(("project" = String, Path), ("id" = i64, Path), ("format" = String, Path), FileQuery),
    responses((status = 200, description = "the file", content_type = "application/octet-stream", body = String), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn report_file(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, id, format)): Path<(String, i64, String)>,
    Query(query): Query<FileQuery>,
) -> ApiResult<Response> {
    caller
        .authorize(&state, Action::ProjectRead, &Target::project(&project))
        .await?;
    let format: ReportFormat = format.parse()?;
    let report = state.compliance_report(&project, id).await?;
    may_read(&state, &caller, &report, true).await?;
    let file = report
        .file(format)
        .ok_or_else(|| verity_store::Error::not_found("compliance_report_file", format.as_str()))?;
    let name = format!("{}-{}.{}", report.kind.as_str(), report.id, format.as_str());
    let mut response =
        super::download(&state, &file.content_hash, format.content_type(), &name).await?;
    let headers = response.headers_mut();
    if let Ok(hash) = HeaderValue::from_str(&file.content_hash) {
        headers.insert("x-content-sha256", hash);
    }
    if query.inline
        && let Ok(inline) = HeaderValue::from_str(&format!("inline; filename=\"{name}\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, inline);
    }
    Ok(response)
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(model_documentation, set_model_documentation))
        .routes(routes!(dataset_documentation, set_dataset_documentation))
        .routes(routes!(generate_report, list_reports))
        .routes(routes!(get_report))
        .routes(routes!(report_file))
}
