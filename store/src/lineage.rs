//! Lineage: edges between dataset versions, runs, model versions and check reports, and graph
//! walks.

use std::collections::{HashMap, HashSet, VecDeque};

use sqlx::{AnyConnection, Row as _};

use crate::model::{Direction, LineageEdge, LineageGraph, LineageNode, NodeKind};
use crate::{Error, Result, Store, now_ms};

/// Deepest walk a caller may ask for.
pub const MAX_DEPTH: u32 = 20;
/// Most nodes one walk returns.
pub const MAX_NODES: usize = 1000;

/// An edge by internal ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edge {
    pub src_kind: NodeKind,
    pub src_id: i64,
    pub dst_kind: NodeKind,
    pub dst_id: i64,
    pub relation: &'static str,
    pub context: String,
}

impl Edge {
    pub(crate) fn new(
        src_kind: NodeKind,
        src_id: i64,
        dst_kind: NodeKind,
        dst_id: i64,
        relation: &'static str,
        context: &str,
    ) -> Self {
        Self {
            src_kind,
            src_id,
            dst_kind,
            dst_id,
            relation,
            context: context.to_string(),
        }
    }
}

/// Records an edge; recording the same edge again is a no-op.
pub(crate) async fn insert_edge(conn: &mut AnyConnection, edge: &Edge, actor: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO lineage_edges (src_kind, src_id, dst_kind, dst_id, relation, context, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
    )
    .bind(edge.src_kind.as_str())
    .bind(edge.src_id)
    .bind(edge.dst_kind.as_str())
    .bind(edge.dst_id)
    .bind(edge.relation)
    .bind(&edge.context)
    .bind(actor)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

/// The internal id of a node given its public id (decimal id, or a run's uuid).
pub(crate) async fn internal_id(
    conn: &mut AnyConnection,
    kind: NodeKind,
    public_id: &str,
) -> Result<i64> {
    let found: Option<i64> = match kind {
        NodeKind::Run => {
            sqlx::query_scalar("SELECT id FROM runs WHERE uuid = $1")
                .bind(public_id)
                .fetch_optional(conn)
                .await?
        }
        NodeKind::DatasetVersion | NodeKind::ModelVersion | NodeKind::Report => {
            let id: i64 = public_id
                .parse()
                .map_err(|_| Error::invalid(format!("{} id must be an integer", kind.as_str())))?;
            let sql = match kind {
                NodeKind::DatasetVersion => "SELECT id FROM dataset_versions WHERE id = $1",
                NodeKind::ModelVersion => "SELECT id FROM model_versions WHERE id = $1",
                _ => "SELECT id FROM check_reports WHERE id = $1",
            };
            sqlx::query_scalar(sql)
                .bind(id)
                .fetch_optional(conn)
                .await?
        }
    };
    found.ok_or_else(|| Error::not_found(kind.as_str(), public_id))
}

/// Public id, label and project of a node.
async fn describe(
    conn: &mut AnyConnection,
    kind: NodeKind,
    id: i64,
) -> Result<(String, String, String)> {
    let row = match kind {
        NodeKind::Run => sqlx::query(
            "SELECT r.uuid AS public_id, p.name || '/' || e.name || '/' || r.name AS label, p.name AS project FROM runs r \
             JOIN experiments e ON e.id = r.experiment_id JOIN projects p ON p.id = e.project_id WHERE r.id = $1",
        ),
        NodeKind::DatasetVersion => sqlx::query(
            "SELECT CAST(dv.id AS TEXT) AS public_id, p.name || '/' || d.name || '@v' || CAST(dv.version AS TEXT) AS label, p.name AS project \
             FROM dataset_versions dv JOIN datasets d ON d.id = dv.dataset_id JOIN projects p ON p.id = d.project_id WHERE dv.id = $1",
        ),
        NodeKind::ModelVersion => sqlx::query(
            "SELECT CAST(mv.id AS TEXT) AS public_id, p.name || '/' || m.name || '@v' || CAST(mv.version AS TEXT) AS label, p.name AS project \
             FROM model_versions mv JOIN registered_models m ON m.id = mv.model_id JOIN projects p ON p.id = m.project_id WHERE mv.id = $1",
        ),
        NodeKind::Report => sqlx::query(
            "SELECT CAST(r.id AS TEXT) AS public_id, r.kind || ' report #' || CAST(r.id AS TEXT) AS label, p.name AS project \
             FROM check_reports r JOIN projects p ON p.id = r.project_id WHERE r.id = $1",
        ),
    }
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| Error::not_found(kind.as_str(), id))?;
    Ok((
        row.try_get("public_id")?,
        row.try_get("label")?,
        row.try_get("project")?,
    ))
}

struct RawEdge {
    edge: Edge,
    created_by: String,
    created_at: i64,
}

async fn neighbours(
    conn: &mut AnyConnection,
    kind: NodeKind,
    id: i64,
    upstream: bool,
) -> Result<Vec<RawEdge>> {
    let sql = if upstream {
        "SELECT src_kind, src_id, dst_kind, dst_id, relation, context, created_by, created_at FROM lineage_edges \
         WHERE dst_kind = $1 AND dst_id = $2 ORDER BY id LIMIT $3"
    } else {
        "SELECT src_kind, src_id, dst_kind, dst_id, relation, context, created_by, created_at FROM lineage_edges \
         WHERE src_kind = $1 AND src_id = $2 ORDER BY id LIMIT $3"
    };
    // One more than a graph may hold: enough to know that it was cut.
    let rows = sqlx::query(sql)
        .bind(kind.as_str())
        .bind(id)
        .bind(i64::try_from(MAX_NODES).unwrap_or(i64::MAX) + 1)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| {
            let kind_of = |col: &str| -> Result<NodeKind> {
                let text: String = row.try_get(col)?;
                NodeKind::parse(&text)
                    .ok_or_else(|| Error::Internal(format!("unknown node kind {text}")))
            };
            let relation: String = row.try_get("relation")?;
            Ok(RawEdge {
                edge: Edge {
                    src_kind: kind_of("src_kind")?,
                    src_id: row.try_get("src_id")?,
                    dst_kind: kind_of("dst_kind")?,
                    dst_id: row.try_get("dst_id")?,
                    relation: match relation.as_str() {
                        "input" => "input",
                        "output" => "output",
                        "produced" => "produced",
                        "checked" => "checked",
                        "reference" => "reference",
                        "evaluated" => "evaluated",
                        "reference_model" => "reference_model",
                        "predicted" => "predicted",
                        _ => "derived",
                    },
                    context: row.try_get("context")?,
                },
                created_by: row.try_get("created_by")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect()
}

impl Store {
    /// The lineage graph around a node, breadth first, up to `depth` hops each way asked, with
    /// at most [`MAX_NODES`] nodes (`truncated` says when more were left out).
    pub async fn lineage(
        &self,
        kind: NodeKind,
        public_id: &str,
        direction: Direction,
        depth: u32,
    ) -> Result<LineageGraph> {
        if depth == 0 || depth > MAX_DEPTH {
            return Err(Error::invalid(format!(
                "depth must be between 1 and {MAX_DEPTH}"
            )));
        }
        let mut conn = self.inner.read.acquire().await?;
        let start = internal_id(&mut conn, kind, public_id).await?;
        let mut depth_of: HashMap<(NodeKind, i64), u32> = HashMap::from([((kind, start), 0)]);
        let mut order = vec![(kind, start)];
        let mut truncated = false;
        let mut edges: Vec<RawEdge> = Vec::new();
        let mut seen_edges: HashSet<(NodeKind, i64, NodeKind, i64, &'static str, String)> =
            HashSet::new();
        let walks: &[bool] = match direction {
            Direction::Upstream => &[true],
            Direction::Downstream => &[false],
            Direction::Both => &[true, false],
        };
        for &upstream in walks {
            let mut queue = VecDeque::from([((kind, start), 0u32)]);
            let mut visited = HashSet::from([(kind, start)]);
            while let Some(((node_kind, node_id), d)) = queue.pop_front() {
                if d >= depth {
                    continue;
                }
                let found = neighbours(&mut conn, node_kind, node_id, upstream).await?;
                truncated |= found.len() > MAX_NODES;
                for raw in found {
                    let next = if upstream {
                        (raw.edge.src_kind, raw.edge.src_id)
                    } else {
                        (raw.edge.dst_kind, raw.edge.dst_id)
                    };
                    let e = &raw.edge;
                    let key = (
                        e.src_kind,
                        e.src_id,
                        e.dst_kind,
                        e.dst_id,
                        e.relation,
                        e.context.clone(),
                    );
                    if !depth_of.contains_key(&next) && order.len() >= MAX_NODES {
                        truncated = true;
                        continue;
                    }
                    if seen_edges.insert(key) {
                        edges.push(raw);
                    }
                    if visited.insert(next) {
                        if let std::collections::hash_map::Entry::Vacant(slot) =
                            depth_of.entry(next)
                        {
                            slot.insert(d + 1);
                            order.push(next);
                        }
                        queue.push_back((next, d + 1));
                    }
                }
            }
        }
        let mut nodes = Vec::with_capacity(order.len());
        let mut public: HashMap<(NodeKind, i64), String> = HashMap::new();
        for (node_kind, node_id) in &order {
            let (public_id, label, project) = describe(&mut conn, *node_kind, *node_id).await?;
            public.insert((*node_kind, *node_id), public_id.clone());
            let depth = depth_of.get(&(*node_kind, *node_id)).copied().unwrap_or(0);
            nodes.push(LineageNode {
                kind: *node_kind,
                id: public_id,
                label,
                project,
                depth,
            });
        }
        let edges = edges
            .into_iter()
            .filter_map(|raw| {
                let from_id = public.get(&(raw.edge.src_kind, raw.edge.src_id))?.clone();
                let to_id = public.get(&(raw.edge.dst_kind, raw.edge.dst_id))?.clone();
                Some(LineageEdge {
                    from_kind: raw.edge.src_kind,
                    from_id,
                    to_kind: raw.edge.dst_kind,
                    to_id,
                    relation: raw.edge.relation.to_string(),
                    context: raw.edge.context,
                    created_by: raw.created_by,
                    created_at: raw.created_at,
                })
            })
            .collect();
        Ok(LineageGraph {
            nodes,
            edges,
            truncated,
        })
    }
}
