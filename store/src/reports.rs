//! Check reports: the stored outcome of one profile, quality, drift or fairness check of a
//! dataset version, linked into the lineage graph.

use serde_json::json;
use sqlx::{AnyConnection, Row as _};

use crate::audit::{Actor, NewEvent, append};
use crate::lineage::{Edge, insert_edge};
use crate::model::{NodeKind, Page};
use crate::monitoring::{
    ModelLinks, NewReport, REPORT_KINDS, REPORT_STATUSES, Report, ReportFilter, TRIGGERS, one_of,
    parse_json,
};
use crate::projects::project_id;
use crate::{Error, PageRequest, Result, Store, now_ms, validate};

const SELECT: &str = "SELECT r.id, p.name AS project, r.kind, r.status, r.summary, r.config, r.result, \
     d.name AS dataset, r.dataset_version_id, dv.version, r.reference_version_id, m.name AS monitor, \
     r.monitor_id, r.job_id, r.trigger, r.created_by, r.created_at, r.duration_ms, \
     r.model_version_id, r.reference_model_version_id, r.output_version_id, rm.name AS model, \
     mv.version AS model_version \
     FROM check_reports r JOIN projects p ON p.id = r.project_id \
     JOIN dataset_versions dv ON dv.id = r.dataset_version_id JOIN datasets d ON d.id = dv.dataset_id \
     LEFT JOIN monitors m ON m.id = r.monitor_id \
     LEFT JOIN model_versions mv ON mv.id = r.model_version_id \
     LEFT JOIN registered_models rm ON rm.id = mv.model_id";

fn report_from_row(row: &sqlx::any::AnyRow) -> Result<Report> {
    let config: String = row.try_get("config")?;
    let result: String = row.try_get("result")?;
    Ok(Report {
        id: row.try_get("id")?,
        project: row.try_get("project")?,
        kind: row.try_get("kind")?,
        status: row.try_get("status")?,
        summary: row.try_get("summary")?,
        config: parse_json("report config", &config)?,
        result: parse_json("report result", &result)?,
        dataset: row.try_get("dataset")?,
        dataset_version_id: row.try_get("dataset_version_id")?,
        version: row.try_get("version")?,
        reference_version_id: row.try_get("reference_version_id")?,
        monitor: row.try_get("monitor")?,
        monitor_id: row.try_get("monitor_id")?,
        job_id: row.try_get("job_id")?,
        trigger: row.try_get("trigger")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        duration_ms: row.try_get("duration_ms")?,
        model: row.try_get("model")?,
        model_version: row.try_get("model_version")?,
        models: ModelLinks {
            model_version_id: row.try_get("model_version_id")?,
            reference_model_version_id: row.try_get("reference_model_version_id")?,
            output_version_id: row.try_get("output_version_id")?,
        },
    })
}

/// Reads a report by id, in any project.
pub(crate) async fn report_by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<Report>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE r.id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(report_from_row).transpose()
}

/// Checks that a dataset version exists in `project` (NotFound alike when it does not exist
/// or belongs to another project, which is not named).
pub(crate) async fn check_version_in_project(
    conn: &mut AnyConnection,
    id: i64,
    project: &str,
) -> Result<()> {
    crate::datasets::version_in_project(conn, id, project)
        .await
        .map(drop)
}

/// The project id that `sql` reads for the row `id` (a monitor, a job), NotFound without one.
async fn owner_project(
    conn: &mut AnyConnection,
    entity: &'static str,
    sql: &'static str,
    id: i64,
) -> Result<i64> {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::not_found(entity, id))
}

/// Checks that the model versions belong to the project and the predictions version too
/// (NotFound alike when one does not exist or belongs to another project, not named).
async fn check_models(
    conn: &mut AnyConnection,
    models: &ModelLinks,
    pid: i64,
    project: &str,
) -> Result<()> {
    for id in [models.model_version_id, models.reference_model_version_id]
        .into_iter()
        .flatten()
    {
        let owner: Option<i64> = sqlx::query_scalar(
            "SELECT m.project_id FROM model_versions mv JOIN registered_models m ON m.id = mv.model_id \
             WHERE mv.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        if owner != Some(pid) {
            return Err(Error::not_found(
                "model_version",
                format!("{id} in project '{project}'"),
            ));
        }
    }
    if let Some(output) = models.output_version_id {
        check_version_in_project(conn, output, project).await?;
    }
    Ok(())
}

/// The lineage edges of an evaluation or comparison report `id`.
fn model_edges(models: &ModelLinks, id: i64) -> Vec<Edge> {
    let mut edges = Vec::new();
    if let Some(model) = models.model_version_id {
        edges.push(Edge::new(
            NodeKind::ModelVersion,
            model,
            NodeKind::Report,
            id,
            "evaluated",
            "",
        ));
    }
    if let Some(reference) = models.reference_model_version_id {
        edges.push(Edge::new(
            NodeKind::ModelVersion,
            reference,
            NodeKind::Report,
            id,
            "reference_model",
            "",
        ));
    }
    if let Some(output) = models.output_version_id {
        edges.push(Edge::new(
            NodeKind::Report,
            id,
            NodeKind::DatasetVersion,
            output,
            "predicted",
            "",
        ));
    }
    edges
}

fn check_new(new: &NewReport) -> Result<()> {
    one_of("report kind", &new.kind, &REPORT_KINDS)?;
    one_of("report status", &new.status, &REPORT_STATUSES)?;
    one_of("trigger", &new.trigger, &TRIGGERS)?;
    validate::description(&new.summary)?;
    if new.duration_ms < 0 {
        return Err(Error::invalid("duration_ms must not be negative"));
    }
    Ok(())
}

impl Store {
    /// Records a check report. The judged and reference versions, the monitor and the job must
    /// belong to the report's project. Lineage gets the edges judged version → report
    /// (`checked`) and reference version → report (`reference`).
    pub async fn add_report(&self, new: &NewReport, actor: &Actor) -> Result<Report> {
        check_new(new)?;
        let project = new.project.as_str();
        let mut tx = self.begin_write().await?;
        let pid = project_id(&mut tx, project).await?;
        check_version_in_project(&mut tx, new.dataset_version_id, project).await?;
        if let Some(reference) = new.reference_version_id {
            check_version_in_project(&mut tx, reference, project).await?;
        }
        let owners = [
            (
                "monitor",
                "SELECT project_id FROM monitors WHERE id = $1",
                new.monitor_id,
            ),
            (
                "job",
                "SELECT project_id FROM jobs WHERE id = $1",
                new.job_id,
            ),
        ];
        for (entity, sql, id) in owners {
            if let Some(id) = id
                && owner_project(&mut tx, entity, sql, id).await? != pid
            {
                return Err(Error::invalid(format!(
                    "{entity} {id} does not belong to project '{project}'"
                )));
            }
        }
        check_models(&mut tx, &new.models, pid, project).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO check_reports (project_id, kind, status, summary, config, result, dataset_version_id, \
             reference_version_id, monitor_id, job_id, trigger, created_by, created_at, duration_ms, \
             model_version_id, reference_model_version_id, output_version_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id",
        )
        .bind(pid)
        .bind(&new.kind)
        .bind(&new.status)
        .bind(&new.summary)
        .bind(new.config.to_string())
        .bind(new.result.to_string())
        .bind(new.dataset_version_id)
        .bind(new.reference_version_id)
        .bind(new.monitor_id)
        .bind(new.job_id)
        .bind(&new.trigger)
        .bind(&actor.principal)
        .bind(now_ms())
        .bind(new.duration_ms)
        .bind(new.models.model_version_id)
        .bind(new.models.reference_model_version_id)
        .bind(new.models.output_version_id)
        .fetch_one(&mut *tx)
        .await?;
        let mut edges = vec![(new.dataset_version_id, "checked")];
        if let Some(reference) = new.reference_version_id {
            edges.push((reference, "reference"));
        }
        for (version, relation) in edges {
            let edge = Edge::new(
                NodeKind::DatasetVersion,
                version,
                NodeKind::Report,
                id,
                relation,
                "",
            );
            insert_edge(&mut tx, &edge, &actor.principal).await?;
        }
        for edge in model_edges(&new.models, id) {
            insert_edge(&mut tx, &edge, &actor.principal).await?;
        }
        let report = report_by_id(&mut tx, id)
            .await?
            .ok_or_else(|| Error::Internal(format!("report {id} vanished")))?;
        let event = NewEvent::success(
            "report.create",
            format!("project/{project}/report/{id}"),
            Some(project),
            json!({
                "kind": report.kind,
                "status": report.status,
                "dataset": report.dataset,
                "version": report.version,
                "reference_version_id": report.reference_version_id,
                "monitor": report.monitor,
                "job_id": report.job_id,
                "trigger": report.trigger,
                "model": report.model,
                "model_version": report.model_version,
                "reference_model_version_id": report.models.reference_model_version_id,
                "output_version_id": report.models.output_version_id,
            }),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Reads a report of a project (NotFound when it belongs to another one).
    pub async fn report(&self, project: &str, id: i64) -> Result<Report> {
        let mut conn = self.inner.read.acquire().await?;
        project_id(&mut conn, project).await?;
        match report_by_id(&mut conn, id).await? {
            Some(report) if report.project == project => Ok(report),
            _ => Err(Error::not_found("report", id)),
        }
    }

    /// Lists a project's reports, newest first. Filters by unknown dataset or monitor names
    /// match nothing; an unknown kind or status is InvalidArgument.
    pub async fn list_reports(
        &self,
        project: &str,
        filter: &ReportFilter,
        page: &PageRequest,
    ) -> Result<Page<Report>> {
        if let Some(kind) = &filter.kind {
            one_of("report kind", kind, &REPORT_KINDS)?;
        }
        if let Some(status) = &filter.status {
            one_of("report status", status, &REPORT_STATUSES)?;
        }
        let mut conn = self.inner.read.acquire().await?;
        let pid = project_id(&mut conn, project).await?;
        let mut sql = format!("{SELECT} WHERE r.project_id = $1 AND r.id < $2");
        let mut next = 3;
        let mut texts: Vec<&str> = Vec::new();
        for (column, value) in [
            ("r.kind", &filter.kind),
            ("r.status", &filter.status),
            ("d.name", &filter.dataset),
            ("m.name", &filter.monitor),
            ("rm.name", &filter.model),
        ] {
            if let Some(value) = value {
                texts.push(value);
                sql.push_str(&format!(" AND {column} = ${next}"));
                next += 1;
            }
        }
        let mut ids: Vec<i64> = Vec::new();
        for (column, value) in [
            ("r.dataset_version_id", filter.dataset_version_id),
            ("r.model_version_id", filter.model_version_id),
        ] {
            if let Some(value) = value {
                ids.push(value);
                sql.push_str(&format!(" AND {column} = ${next}"));
                next += 1;
            }
        }
        if filter.monitor_made {
            sql.push_str(" AND m.id IS NOT NULL");
        }
        sql.push_str(&format!(" ORDER BY r.id DESC LIMIT ${next}"));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(pid)
            .bind(page.before_key());
        for value in texts {
            query = query.bind(value);
        }
        for value in ids {
            query = query.bind(value);
        }
        let rows = query.bind(page.fetch()).fetch_all(&mut *conn).await?;
        let reports = rows
            .iter()
            .map(report_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(reports, page, |r| r.id))
    }
}
