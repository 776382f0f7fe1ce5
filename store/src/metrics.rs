//! Metric points: append-only ingest, the latest value per key, history and downsampling.

use std::collections::HashMap;

use futures::channel::mpsc;
use futures::{SinkExt as _, StreamExt as _};

use sqlx::{AnyConnection, Row as _};

use crate::model::{MetricBucket, MetricPoint, MetricValue, Page};
use crate::page::Cursor;
use crate::runs::{latest_points, run_by_uuid};
use crate::{Backend, Error, Result, Store};

/// Rows per INSERT statement (7 binds each: 14,000, under SQLite's 32,766 and PostgreSQL's 65,535).
const ROWS_PER_INSERT: usize = 2000;
/// Binds per metric row in [`insert_sql`].
const BINDS_PER_ROW: usize = 7;
/// Largest page of a metric history.
pub const MAX_HISTORY_PAGE: u32 = 100_000;
/// Most buckets a downsampled view may ask for.
pub const MAX_BUCKETS: u32 = 10_000;

/// The multi-row INSERT for `rows` points. SQLite gets anonymous `?` placeholders: it looks
/// named ones (`$n`) up in a linked list on every bind, which makes a 14,000-parameter statement
/// quadratic; PostgreSQL needs numbered ones.
fn insert_sql(rows: usize, backend: Backend) -> String {
    let mut sql = String::with_capacity(80 + rows * 60);
    sql.push_str("INSERT INTO metrics (run_id, key, value, step, timestamp, batch_id) VALUES ");
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        match backend {
            Backend::Sqlite => sql.push_str("(?,?,CASE WHEN ? = 1 THEN NULL ELSE ? END,?,?,?)"),
            Backend::Postgres => {
                let b = i * BINDS_PER_ROW + 1;
                sql.push_str(&format!(
                    "(${b},${},CASE WHEN ${} = 1 THEN NULL ELSE ${} END,${},${},${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6
                ));
            }
        }
    }
    sql
}

/// NaN is stored as NULL (SQLite cannot store a NaN); infinities are stored as they are.
///
/// Returns `(is_nan, value)`: the SQL turns the flag into NULL (`CASE WHEN flag = 1 THEN NULL
/// ELSE value END`). A NULL is never bound as a float: sqlx's Any driver encodes a NULL `f64`
/// as a `float4` parameter, which PostgreSQL then keeps in the cached statement and refuses
/// the next non-NULL `f64` bound to the same position ("incorrect binary data format").
fn to_db(value: f64) -> (i64, f64) {
    if value.is_nan() { (1, 0.0) } else { (0, value) }
}

/// Appends points to a run, records who logged them, and moves the latest value per key.
pub(crate) async fn insert_points(
    conn: &mut AnyConnection,
    backend: Backend,
    run_id: i64,
    points: &[MetricPoint],
    actor: &str,
    now: i64,
) -> Result<()> {
    if points.is_empty() {
        return Ok(());
    }
    let count = i64::try_from(points.len()).map_err(|_| Error::invalid("too many points"))?;
    let batch_id: i64 = sqlx::query_scalar(
        "INSERT INTO metric_batches (run_id, points, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(run_id)
    .bind(count)
    .bind(actor)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let full_sql = insert_sql(ROWS_PER_INSERT, backend);
    for chunk in points.chunks(ROWS_PER_INSERT) {
        let partial_sql;
        let sql = if chunk.len() == ROWS_PER_INSERT {
            full_sql.as_str()
        } else {
            partial_sql = insert_sql(chunk.len(), backend);
            partial_sql.as_str()
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for p in chunk {
            let (is_nan, value) = to_db(p.value);
            query = query
                .bind(run_id)
                .bind(p.key.as_str())
                .bind(is_nan)
                .bind(value)
                .bind(p.step)
                .bind(p.timestamp)
                .bind(batch_id);
        }
        query.execute(&mut *conn).await?;
    }
    // The latest point per key in this batch: highest step, then timestamp, then the later one.
    let mut latest: HashMap<&str, &MetricPoint> = HashMap::new();
    for p in points {
        let entry = latest.entry(p.key.as_str()).or_insert(p);
        if (p.step, p.timestamp) >= (entry.step, entry.timestamp) {
            *entry = p;
        }
    }
    for p in latest.values() {
        sqlx::query(
            "INSERT INTO latest_metrics (run_id, key, value, step, timestamp) \
             VALUES ($1, $2, CASE WHEN $6 = 1 THEN NULL ELSE $3 END, $4, $5) \
             ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, step = excluded.step, timestamp = excluded.timestamp \
             WHERE excluded.step > latest_metrics.step \
             OR (excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)",
        )
        .bind(run_id)
        .bind(p.key.as_str())
        .bind(to_db(p.value).1)
        .bind(p.step)
        .bind(p.timestamp)
        .bind(to_db(p.value).0)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn value_of(row: &sqlx::any::AnyRow, column: &str) -> Result<f64> {
    let value: Option<f64> = row.try_get(column)?;
    Ok(value.unwrap_or(f64::NAN))
}

/// Points delivered per chunk of a streamed history.
const HISTORY_CHUNK: usize = 8192;

/// A piece of a streamed metric history.
#[derive(Debug, Clone, PartialEq)]
pub enum HistoryChunk {
    /// The next points, in order.
    Points(Vec<MetricValue>),
    /// The end, with the cursor of the next page when there is one.
    End {
        /// Pass as `cursor` to continue.
        next_cursor: Option<String>,
    },
}

/// Moves rows from the database into chunks on the channel; stops early when the reader is gone.
async fn pump_history<S>(
    rows: S,
    mut tx: mpsc::Sender<Result<HistoryChunk>>,
    limit: u32,
    offset: i64,
) where
    S: futures::Stream<Item = std::result::Result<(Option<f64>, i64, i64), sqlx::Error>>,
{
    let mut rows = std::pin::pin!(rows);
    let mut chunk = Vec::with_capacity(HISTORY_CHUNK);
    let mut sent: u32 = 0;
    let mut more = false;
    while let Some(row) = rows.next().await {
        let (value, step, timestamp) = match row {
            Ok(row) => row,
            Err(e) => {
                let _ = tx.send(Err(e.into())).await;
                return;
            }
        };
        if sent == limit {
            more = true;
            break;
        }
        sent += 1;
        chunk.push(MetricValue {
            value: value.unwrap_or(f64::NAN),
            step,
            timestamp,
        });
        if chunk.len() == HISTORY_CHUNK {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(HISTORY_CHUNK));
            if tx.send(Ok(HistoryChunk::Points(full))).await.is_err() {
                return;
            }
        }
    }
    if !chunk.is_empty() && tx.send(Ok(HistoryChunk::Points(chunk))).await.is_err() {
        return;
    }
    let next_cursor = more.then(|| Cursor(offset + i64::from(limit)).encode());
    let _ = tx.send(Ok(HistoryChunk::End { next_cursor })).await;
}

impl Store {
    /// The latest point of every metric of a run.
    pub async fn latest_metrics(&self, uuid: &str) -> Result<Vec<MetricPoint>> {
        let mut conn = self.inner.read.acquire().await?;
        let run = run_by_uuid(&mut conn, uuid).await?;
        let points = latest_points(&mut conn, &run.id.to_string()).await?;
        Ok(points.into_iter().map(|(_, point)| point).collect())
    }

    /// The full history of one metric, ordered by step then timestamp; the cursor is an offset.
    pub async fn metric_history(
        &self,
        uuid: &str,
        key: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<MetricValue>> {
        let mut chunks = self.metric_history_stream(uuid, key, limit, cursor).await?;
        let mut items = Vec::new();
        while let Some(chunk) = chunks.next().await {
            match chunk? {
                HistoryChunk::Points(points) => items.extend(points),
                HistoryChunk::End { next_cursor } => return Ok(Page { items, next_cursor }),
            }
        }
        Err(Error::Internal("metric history ended early".into()))
    }

    /// The same history as [`Store::metric_history`], delivered in chunks while the database
    /// reads, so a caller can write the first points before the last are read. Errors about the
    /// request (unknown run or metric, bad limit or cursor) come before the first chunk; the
    /// stream ends with [`HistoryChunk::End`].
    pub async fn metric_history_stream(
        &self,
        uuid: &str,
        key: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<mpsc::Receiver<Result<HistoryChunk>>> {
        let limit = limit.unwrap_or(MAX_HISTORY_PAGE);
        if limit == 0 || limit > MAX_HISTORY_PAGE {
            return Err(Error::invalid(format!(
                "limit must be between 1 and {MAX_HISTORY_PAGE}"
            )));
        }
        let offset = match cursor {
            Some(token) if !token.is_empty() => Cursor::decode(token)?.0.max(0),
            _ => 0,
        };
        let run_id = {
            let mut conn = self.inner.read.acquire().await?;
            let run = run_by_uuid(&mut conn, uuid).await?;
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT run_id FROM latest_metrics WHERE run_id = $1 AND key = $2",
            )
            .bind(run.id)
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
            if exists.is_none() {
                return Err(Error::not_found("metric", key));
            }
            run.id
        };
        const HISTORY: &str = "SELECT value, step, timestamp FROM metrics WHERE run_id = $1 AND key = $2 \
             ORDER BY step, timestamp LIMIT $3 OFFSET $4";
        let fetch = i64::from(limit) + 1;
        let key = key.to_string();
        let (tx, rx) = mpsc::channel(4);
        match &self.inner.bulk_read {
            Some(pool) => {
                let pool = pool.clone();
                tokio::spawn(async move {
                    let rows = sqlx::query_as(HISTORY)
                        .bind(run_id)
                        .bind(key)
                        .bind(fetch)
                        .bind(offset)
                        .fetch(&pool);
                    pump_history(rows, tx, limit, offset).await;
                });
            }
            None => {
                let pool = self.inner.read.clone();
                tokio::spawn(async move {
                    let rows = sqlx::query_as(HISTORY)
                        .bind(run_id)
                        .bind(key)
                        .bind(fetch)
                        .bind(offset)
                        .fetch(&pool);
                    pump_history(rows, tx, limit, offset).await;
                });
            }
        }
        Ok(rx)
    }

    /// MLflow's sampled history of one metric (its SQL store's `get_metric_history_bulk_interval`
    /// for one run): the points in the step range, ordered by step, timestamp and value, split
    /// into `max` equal runs (SQL's NTILE), the first point of each, and the last point (in place
    /// of the final pick when there are `max` already). A metric the run never logged is empty.
    pub async fn metric_sample(
        &self,
        uuid: &str,
        key: &str,
        max: u32,
        range: Option<(i64, i64)>,
    ) -> Result<Vec<MetricValue>> {
        if max == 0 {
            return Err(Error::invalid("max must be at least 1"));
        }
        let (start, end) = range.unwrap_or((i64::MIN, i64::MAX));
        let mut conn = self.inner.read.acquire().await?;
        let run = run_by_uuid(&mut conn, uuid).await?;
        const ORDER: &str = "step, timestamp, (CASE WHEN value IS NULL THEN 1 ELSE 0 END), value";
        let sampled = format!(
            "SELECT value, step, timestamp FROM ( \
               SELECT value, step, timestamp, ROW_NUMBER() OVER (PARTITION BY bucket ORDER BY {ORDER}) AS rn FROM ( \
                 SELECT value, step, timestamp, NTILE(CAST($3 AS INTEGER)) OVER (ORDER BY {ORDER}) AS bucket FROM metrics \
                 WHERE run_id = $1 AND key = $2 AND step >= $4 AND step <= $5) b) r \
             WHERE rn = 1 ORDER BY {ORDER}"
        );
        let mut points = Vec::new();
        for row in sqlx::query(sqlx::AssertSqlSafe(sampled))
            .bind(run.id)
            .bind(key)
            .bind(i64::from(max))
            .bind(start)
            .bind(end)
            .fetch_all(&mut *conn)
            .await?
        {
            points.push(MetricValue {
                value: value_of(&row, "value")?,
                step: row.try_get("step")?,
                timestamp: row.try_get("timestamp")?,
            });
        }
        let last = format!(
            "SELECT value, step, timestamp FROM metrics WHERE run_id = $1 AND key = $2 \
             AND step >= $3 AND step <= $4 ORDER BY {} LIMIT 1",
            ORDER
                .split(", ")
                .map(|c| format!("{c} DESC"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Some(row) = sqlx::query(sqlx::AssertSqlSafe(last))
            .bind(run.id)
            .bind(key)
            .bind(start)
            .bind(end)
            .fetch_optional(&mut *conn)
            .await?
        {
            let last = MetricValue {
                value: value_of(&row, "value")?,
                step: row.try_get("step")?,
                timestamp: row.try_get("timestamp")?,
            };
            let same = |p: &MetricValue| {
                (p.step, p.timestamp) == (last.step, last.timestamp)
                    && (p.value == last.value || (p.value.is_nan() && last.value.is_nan()))
            };
            if !points.last().is_some_and(same) {
                if points.len() >= max as usize {
                    points.pop();
                }
                points.push(last);
            }
        }
        Ok(points)
    }

    /// At most `buckets` buckets over a step range, each with min, max, first and last value,
    /// so that spikes survive downsampling. The range defaults to the series' own.
    pub async fn metric_downsample(
        &self,
        uuid: &str,
        key: &str,
        buckets: u32,
        start_step: Option<i64>,
        end_step: Option<i64>,
    ) -> Result<Vec<MetricBucket>> {
        if buckets == 0 || buckets > MAX_BUCKETS {
            return Err(Error::invalid(format!(
                "buckets must be between 1 and {MAX_BUCKETS}"
            )));
        }
        let mut conn = self.inner.read.acquire().await?;
        let run = run_by_uuid(&mut conn, uuid).await?;
        let range = sqlx::query(
            "SELECT MIN(step) AS lo, MAX(step) AS hi FROM metrics WHERE run_id = $1 AND key = $2",
        )
        .bind(run.id)
        .bind(key)
        .fetch_one(&mut *conn)
        .await?;
        let (Some(lo), Some(hi)) = (
            range.try_get::<Option<i64>, _>("lo")?,
            range.try_get::<Option<i64>, _>("hi")?,
        ) else {
            return Err(Error::not_found("metric", key));
        };
        let start = start_step.unwrap_or(lo);
        let end = end_step.unwrap_or(hi);
        if end < start {
            return Err(Error::invalid("end_step must not be below start_step"));
        }
        // Bucket width so that at most `buckets` buckets cover [start, end]; step - start must
        // stay within 64 bits in SQL.
        let span = i128::from(end) - i128::from(start) + 1;
        if span > i128::from(i64::MAX / 2) {
            return Err(Error::invalid(
                "the step range is too wide: narrow it with start_step and end_step",
            ));
        }
        let width = i64::try_from((span + i128::from(buckets) - 1) / i128::from(buckets))
            .unwrap_or(i64::MAX)
            .max(1);
        // One pass over the covering index; SQLite sorts the points by bucket for the GROUP BY
        // (about half the time on 100,000 points). A series of bucket numbers joined to index
        // ranges avoids the sort but measured no faster (see docs/benchmarks.md).
        let rows = sqlx::query(
            "SELECT g.start_step, g.end_step, g.n, g.vmin, g.vmax, \
             (SELECT m.value FROM metrics m WHERE m.run_id = $1 AND m.key = $2 AND m.step = g.start_step ORDER BY m.timestamp LIMIT 1) AS first_value, \
             (SELECT m.value FROM metrics m WHERE m.run_id = $1 AND m.key = $2 AND m.step = g.end_step ORDER BY m.timestamp DESC LIMIT 1) AS last_value \
             FROM (SELECT (step - $3) / $5 AS b, MIN(step) AS start_step, MAX(step) AS end_step, COUNT(*) AS n, \
                   MIN(value) AS vmin, MAX(value) AS vmax \
                   FROM metrics WHERE run_id = $1 AND key = $2 AND step >= $3 AND step <= $4 GROUP BY 1) g ORDER BY g.b",
        )
        .bind(run.id)
        .bind(key)
        .bind(start)
        .bind(end)
        .bind(width)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(MetricBucket {
                    start_step: row.try_get("start_step")?,
                    end_step: row.try_get("end_step")?,
                    count: row.try_get("n")?,
                    min: value_of(row, "vmin")?,
                    max: value_of(row, "vmax")?,
                    first: value_of(row, "first_value")?,
                    last: value_of(row, "last_value")?,
                })
            })
            .collect()
    }
}
