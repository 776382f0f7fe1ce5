//! `/api/v1/lineage`: the lineage graph; `/api/v1/runs/{run_id}/openlineage`: OpenLineage events.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_store::model::{Direction, LineageEdge, LineageNode, NodeKind, RunDataset};

use verity_policy::Action;

use crate::auth::{Caller, Target};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

/// Producer URI written into OpenLineage events.
const PRODUCER: &str = "https://github.com/verity-ml/verity";
/// The OpenLineage RunEvent schema Verity emits.
const RUN_EVENT_SCHEMA: &str = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";

/// Kinds of lineage nodes.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A dataset version (id: its global id).
    DatasetVersion,
    /// A run (id: its run_id).
    Run,
    /// A model version (id: its global id).
    ModelVersion,
    /// A check report (id: its id).
    Report,
}

impl From<Kind> for NodeKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::DatasetVersion => NodeKind::DatasetVersion,
            Kind::Run => NodeKind::Run,
            Kind::ModelVersion => NodeKind::ModelVersion,
            Kind::Report => NodeKind::Report,
        }
    }
}

impl From<NodeKind> for Kind {
    fn from(k: NodeKind) -> Self {
        match k {
            NodeKind::DatasetVersion => Kind::DatasetVersion,
            NodeKind::Run => Kind::Run,
            NodeKind::ModelVersion => Kind::ModelVersion,
            NodeKind::Report => Kind::Report,
        }
    }
}

/// Which way to walk.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WalkDirection {
    /// Towards inputs.
    Upstream,
    /// Towards outputs.
    Downstream,
    /// Both (default).
    #[default]
    Both,
}

/// Query of `GET /api/v1/lineage`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LineageQuery {
    /// Kind of the start node.
    pub kind: Kind,
    /// Id of the start node.
    pub id: String,
    /// `upstream`, `downstream` or `both` (default).
    #[serde(default)]
    pub direction: WalkDirection,
    /// Hops to walk (1..=20, default 3).
    pub depth: Option<u32>,
}

/// A node of the graph.
#[derive(Debug, Serialize, ToSchema)]
pub struct NodeResponse {
    /// Kind.
    pub kind: Kind,
    /// Id.
    pub id: String,
    /// Readable label.
    pub label: String,
    /// Hops from the start node.
    pub depth: u32,
}

impl From<LineageNode> for NodeResponse {
    fn from(n: LineageNode) -> Self {
        Self {
            kind: n.kind.into(),
            id: n.id,
            label: n.label,
            depth: n.depth,
        }
    }
}

/// An edge from upstream to downstream.
#[derive(Debug, Serialize, ToSchema)]
pub struct EdgeResponse {
    /// Upstream kind.
    pub from_kind: Kind,
    /// Upstream id.
    pub from_id: String,
    /// Downstream kind.
    pub to_kind: Kind,
    /// Downstream id.
    pub to_id: String,
    /// `input`, `output`, `produced`, `derived`, `checked`, `reference`, `evaluated`,
    /// `reference_model` or `predicted`.
    pub relation: String,
    /// Context of an input, e.g. `training`.
    pub context: String,
    /// Who recorded it.
    pub created_by: String,
    /// When (ms).
    pub created_at: i64,
}

impl From<LineageEdge> for EdgeResponse {
    fn from(e: LineageEdge) -> Self {
        Self {
            from_kind: e.from_kind.into(),
            from_id: e.from_id,
            to_kind: e.to_kind.into(),
            to_id: e.to_id,
            relation: e.relation,
            context: e.context,
            created_by: e.created_by,
            created_at: e.created_at,
        }
    }
}

/// A lineage graph.
#[derive(Debug, Serialize, ToSchema)]
pub struct GraphResponse {
    /// Nodes, the start node first.
    pub nodes: Vec<NodeResponse>,
    /// Edges among them.
    pub edges: Vec<EdgeResponse>,
    /// True when the graph reached the node limit (1000) and nodes were left out.
    pub truncated: bool,
}

/// OpenLineage RunEvents of a run.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpenLineageResponse {
    /// START, then COMPLETE, FAIL or ABORT once the run has ended.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Value>,
}

/// The upstream and/or downstream graph of a dataset version, run or model version.
#[utoipa::path(get, path = "/api/v1/lineage", tag = "lineage", params(LineageQuery),
    responses((status = 200, body = GraphResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn lineage(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<LineageQuery>,
) -> ApiResult<Json<GraphResponse>> {
    caller.authorize_self(); // decided per node below
    let direction = match query.direction {
        WalkDirection::Upstream => Direction::Upstream,
        WalkDirection::Downstream => Direction::Downstream,
        WalkDirection::Both => Direction::Both,
    };
    let graph = state
        .lineage(
            query.kind.into(),
            &query.id,
            direction,
            query.depth.unwrap_or(3),
        )
        .await?;
    // The start node's project decides the request; nodes of projects the caller may not
    // read are left out, with the edges that touch them.
    let start = graph
        .nodes
        .first()
        .ok_or_else(|| ApiError::bad_request("lineage walk found no start node"))?;
    // A start node of an unreadable project is answered like one that does not exist.
    let start_kind = start.kind.as_str();
    caller
        .authorize_or_hide(
            &state,
            Action::LineageRead,
            &Target::project(&start.project),
            || verity_store::Error::not_found(start_kind, &query.id).into(),
        )
        .await?;
    let mut hidden = std::collections::HashSet::new();
    let mut nodes = Vec::with_capacity(graph.nodes.len());
    for node in graph.nodes {
        if caller.can(&state, Action::LineageRead, &Target::project(&node.project))? {
            nodes.push(node);
        } else {
            hidden.insert((node.kind, node.id));
        }
    }
    let edges = graph
        .edges
        .into_iter()
        .filter(|e| {
            !hidden.contains(&(e.from_kind, e.from_id.clone()))
                && !hidden.contains(&(e.to_kind, e.to_id.clone()))
        })
        .collect::<Vec<_>>();
    Ok(Json(GraphResponse {
        nodes: nodes.into_iter().map(Into::into).collect(),
        edges: edges.into_iter().map(Into::into).collect(),
        truncated: graph.truncated,
    }))
}

/// The run as OpenLineage RunEvents (spec 2-0-2).
#[utoipa::path(get, path = "/api/v1/runs/{run_id}/openlineage", tag = "lineage", params(("run_id" = String, Path)),
    responses((status = 200, body = OpenLineageResponse), (status = 404, body = ErrorBody)))]
pub async fn openlineage(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): Path<String>,
) -> ApiResult<Json<OpenLineageResponse>> {
    caller
        .authorize_run(&state, Action::LineageRead, &run_id)
        .await?;
    let detail = state.get_run_detail(&run_id).await?;
    let run = &detail.run;
    let experiment = state
        .get_experiment(&run.project, run.experiment_id)
        .await?;
    let mut inputs = Vec::new();
    for input in &detail.inputs {
        inputs.push(dataset_facet(&state, input, true).await?);
    }
    let mut outputs = Vec::new();
    for output in &detail.dataset_outputs {
        outputs.push(dataset_facet(&state, output, false).await?);
    }
    for model in &detail.model_outputs {
        outputs.push(json!({
            "namespace": format!("verity://{}", run.project),
            "name": format!("models/{}", model.model),
            "facets": { "version": facet("DatasetVersionDatasetFacet", json!({"datasetVersion": model.version.to_string()})) },
        }));
    }
    let run_id_uuid = dashed_uuid(&run.uuid);
    let job = json!({
        "namespace": format!("verity://{}", run.project),
        "name": experiment.name,
        "facets": { "jobType": facet("JobTypeJobFacet", json!({"processingType": "BATCH", "integration": "VERITY", "jobType": "RUN"})) },
    });
    let event = |event_type: &str, time: i64, outputs: &[Value]| {
        json!({
            "eventType": event_type,
            "eventTime": rfc3339(time),
            "run": { "runId": run_id_uuid, "facets": { "verity_run": {
                "_producer": PRODUCER, "_schemaURL": format!("{PRODUCER}/schemas/run-facet.json"),
                "run_id": run.uuid, "name": run.name, "status": run.status, "created_by": run.created_by } } },
            "job": job,
            "inputs": inputs,
            "outputs": outputs,
            "producer": PRODUCER,
            "schemaURL": RUN_EVENT_SCHEMA,
        })
    };
    let mut events = vec![event("START", run.start_time, &[])];
    if let Some(end) = run.end_time {
        let terminal = match run.status.as_str() {
            "FAILED" => "FAIL",
            "KILLED" => "ABORT",
            "FINISHED" => "COMPLETE",
            _ => "OTHER",
        };
        events.push(event(terminal, end, &outputs));
    }
    Ok(Json(OpenLineageResponse { events }))
}

fn facet(name: &str, mut body: Value) -> Value {
    if let Some(map) = body.as_object_mut() {
        map.insert("_producer".into(), json!(PRODUCER));
        map.insert(
            "_schemaURL".into(),
            json!(format!(
                "https://openlineage.io/spec/facets/1-0-0/{name}.json"
            )),
        );
    }
    body
}

async fn dataset_facet(state: &AppState, d: &RunDataset, input: bool) -> ApiResult<Value> {
    let version = state
        .get_dataset_version_by_id(d.dataset_version_id)
        .await?;
    let fields: Vec<Value> = version.schema["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|f| json!({"name": f["name"], "type": f["data_type"]}))
                .collect()
        })
        .unwrap_or_default();
    let mut value = json!({
        "namespace": format!("verity://{}", d.project),
        "name": d.dataset,
        "facets": {
            "version": facet("DatasetVersionDatasetFacet", json!({"datasetVersion": d.content_hash})),
            "schema": facet("SchemaDatasetFacet", json!({"fields": fields})),
        },
    });
    if input {
        value["inputFacets"] = json!({ "verity_input": {
            "_producer": PRODUCER, "_schemaURL": format!("{PRODUCER}/schemas/input-facet.json"),
            "context": d.context, "version": d.version, "row_count": version.row_count } });
    }
    Ok(value)
}

/// `0123...` (32 hex) to the 8-4-4-4-12 form OpenLineage requires.
fn dashed_uuid(hex: &str) -> String {
    uuid::Uuid::parse_str(hex)
        .map(|u| u.hyphenated().to_string())
        .unwrap_or_else(|_| hex.to_string())
}

/// Milliseconds since the epoch as RFC 3339 UTC, e.g. `2026-11-27T13:36:35.123Z`.
fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(lineage))
        .routes(routes!(openlineage))
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            super::rfc3339(1_795_786_595_123),
            "2026-11-27T13:36:35.123Z"
        );
        assert_eq!(super::rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn uuid_gets_dashes() {
        assert_eq!(
            super::dashed_uuid("0123456789abcdef0123456789abcdef"),
            "01234567-89ab-cdef-0123-456789abcdef"
        );
    }
}
