//! MLflow's JSON shapes (protobuf JSON as MLflow's server writes it: snake_case names, int64
//! as numbers, NaN and infinities as strings, empty lists left out) and lenient readers for
//! what clients send (int64 as numbers or strings, doubles as numbers or "NaN"/"Infinity").

use axum::body::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use verity_store::PageRequest;
use verity_store::model::{Experiment, KeyValue, MetricPoint, Run, RunDetail, ViewType};

use super::MlflowError;

/// Parses a JSON body (an empty body is `{}`).
pub fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, MlflowError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    let invalid =
        |e: serde_json::Error| MlflowError::invalid(format!("the request body is not valid: {e}"));
    // JSON can only carry NUL as the escape `\u0000`: without one, parse straight into `T`
    // (the fast path, for log-batch's thousand points); with one, look for it in the values.
    let may_hold_nul = bytes
        .windows(6)
        .any(|w| w[0] == b'\\' && w[1] == b'u' && w[2..].eq_ignore_ascii_case(b"0000"));
    if !may_hold_nul {
        return serde_json::from_slice(bytes).map_err(invalid);
    }
    let value: Value = serde_json::from_slice(bytes).map_err(invalid)?;
    refuse_nul(&value)?;
    serde_json::from_value(value).map_err(invalid)
}

/// Text with NUL cannot be stored (PostgreSQL refuses it): a 400 rather than a failure.
fn refuse_nul(value: &Value) -> Result<(), MlflowError> {
    let bad = match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(list) => return list.iter().try_for_each(refuse_nul),
        Value::Object(map) => {
            for (k, v) in map {
                if k.contains('\0') {
                    return Err(MlflowError::invalid("text must not contain NUL characters"));
                }
                refuse_nul(v)?;
            }
            false
        }
        _ => false,
    };
    if bad {
        return Err(MlflowError::invalid("text must not contain NUL characters"));
    }
    Ok(())
}

/// Parses a query string into a JSON object (MLflow clients send GET fields as parameters;
/// a repeated key becomes a list).
pub fn query<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, MlflowError> {
    let mut map = Map::new();
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let value = Value::String(value.into_owned());
        match map.get_mut(key.as_ref()) {
            Some(Value::Array(list)) => list.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            None => {
                map.insert(key.into_owned(), value);
            }
        }
    }
    let value = Value::Object(map);
    refuse_nul(&value)?;
    serde_json::from_value(value)
        .map_err(|e| MlflowError::invalid(format!("the query parameters are not valid: {e}")))
}

/// An int64 field: a JSON number or a string of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int(pub i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_i64()
                .map(Int)
                .ok_or_else(|| serde::de::Error::custom(format!("{n} is not an int64"))),
            Value::String(s) => s
                .parse()
                .map(Int)
                .map_err(|_| serde::de::Error::custom(format!("'{s}' is not an int64"))),
            other => Err(serde::de::Error::custom(format!("{other} is not an int64"))),
        }
    }
}

/// A double field: a JSON number, or `"NaN"`, `"Infinity"`, `"-Infinity"` (or a numeric
/// string).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Double(pub f64);

impl<'de> Deserialize<'de> for Double {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_f64()
                .map(Double)
                .ok_or_else(|| serde::de::Error::custom(format!("{n} is not a double"))),
            Value::String(s) => match s.as_str() {
                "NaN" => Ok(Double(f64::NAN)),
                "Infinity" => Ok(Double(f64::INFINITY)),
                "-Infinity" => Ok(Double(f64::NEG_INFINITY)),
                other => other
                    .parse()
                    .map(Double)
                    .map_err(|_| serde::de::Error::custom(format!("'{s}' is not a double"))),
            },
            other => Err(serde::de::Error::custom(format!("{other} is not a double"))),
        }
    }
}

/// A view type: `ACTIVE_ONLY` (default), `DELETED_ONLY`, `ALL`, or their numbers 1–3.
pub fn view_type(value: Option<&Value>) -> Result<ViewType, MlflowError> {
    match value {
        None | Some(Value::Null) => Ok(ViewType::ActiveOnly),
        Some(v) => match (v.as_str(), v.as_i64()) {
            (Some("ACTIVE_ONLY"), _) | (_, Some(1)) => Ok(ViewType::ActiveOnly),
            (Some("DELETED_ONLY"), _) | (_, Some(2)) => Ok(ViewType::DeletedOnly),
            (Some("ALL"), _) | (_, Some(3)) => Ok(ViewType::All),
            (Some(s), _) if s.parse::<i64>().is_ok_and(|n| (1..=3).contains(&n)) => {
                view_type(Some(&json!(s.parse::<i64>().unwrap_or(1))))
            }
            _ => Err(MlflowError::invalid(format!(
                "view type {v} is not one of ACTIVE_ONLY, DELETED_ONLY, ALL"
            ))),
        },
    }
}

/// A double as MLflow writes it.
pub fn double(v: f64) -> Value {
    if v.is_nan() {
        json!("NaN")
    } else if v == f64::INFINITY {
        json!("Infinity")
    } else if v == f64::NEG_INFINITY {
        json!("-Infinity")
    } else {
        json!(v)
    }
}

/// A key/value pair as MLflow writes it.
pub fn pair(kv: &KeyValue) -> Value {
    json!({"key": kv.key, "value": kv.value})
}

/// A metric point as MLflow writes it.
pub fn metric(m: &MetricPoint) -> Value {
    json!({"key": m.key, "value": double(m.value), "timestamp": m.timestamp, "step": m.step})
}

/// An experiment with its tags; its description is MLflow's `mlflow.note.content` tag.
pub fn experiment(e: &Experiment, tags: &[KeyValue]) -> Value {
    let mut out = json!({
        "experiment_id": e.id.to_string(),
        "name": e.name,
        "artifact_location": format!("mlflow-artifacts:/{}", e.id),
        "lifecycle_stage": if e.deleted_at.is_some() { "deleted" } else { "active" },
        "creation_time": e.created_at,
        "last_update_time": e.deleted_at.unwrap_or(e.created_at),
    });
    let mut all: Vec<Value> = tags.iter().map(pair).collect();
    if !e.description.is_empty() {
        all.push(json!({"key": "mlflow.note.content", "value": e.description}));
    }
    if !all.is_empty() {
        out["tags"] = Value::Array(all);
    }
    out
}

/// A run's `info`.
pub fn run_info(r: &Run) -> Value {
    let mut out = json!({
        "run_id": r.uuid,
        "run_uuid": r.uuid,
        "run_name": r.name,
        "experiment_id": r.experiment_id.to_string(),
        "user_id": r.created_by,
        "status": r.status,
        "start_time": r.start_time,
        "artifact_uri": format!("mlflow-artifacts:/{}/{}/artifacts", r.experiment_id, r.uuid),
        "lifecycle_stage": if r.deleted_at.is_some() { "deleted" } else { "active" },
    });
    if let Some(end) = r.end_time {
        out["end_time"] = json!(end);
    }
    out
}

/// A run with its latest metrics, params and tags.
pub fn run(d: &RunDetail) -> Value {
    let mut data = Map::new();
    if !d.metrics.is_empty() {
        data.insert("metrics".into(), d.metrics.iter().map(metric).collect());
    }
    if !d.params.is_empty() {
        data.insert("params".into(), d.params.iter().map(pair).collect());
    }
    let mut tags: Vec<Value> = d.tags.iter().map(pair).collect();
    if !d.tags.iter().any(|t| t.key == "mlflow.runName") {
        tags.push(json!({"key": "mlflow.runName", "value": d.run.name}));
    }
    data.insert("tags".into(), Value::Array(tags));
    json!({"info": run_info(&d.run), "data": data, "inputs": {}, "outputs": {}})
}

/// A key/value pair in a request.
#[derive(Debug, Clone, Deserialize)]
pub struct InPair {
    /// Key.
    pub key: String,
    /// Value (MLflow sends strings; numbers are written as text).
    #[serde(default, deserialize_with = "text")]
    pub value: String,
}

/// A string field that may arrive as a number.
pub fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Null => Ok(String::new()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(serde::de::Error::custom(format!("{other} is not text"))),
    }
}

impl From<InPair> for KeyValue {
    fn from(p: InPair) -> Self {
        KeyValue {
            key: p.key,
            value: p.value,
        }
    }
}

/// A metric in a request.
#[derive(Debug, Clone, Deserialize)]
pub struct InMetric {
    /// Key.
    pub key: String,
    /// Value.
    pub value: Double,
    /// Milliseconds since the epoch (now when absent).
    pub timestamp: Option<Int>,
    /// Step (0 when absent).
    pub step: Option<Int>,
}

impl InMetric {
    /// The point, stamped now when the client sent no time.
    pub fn point(self) -> MetricPoint {
        MetricPoint {
            key: self.key,
            value: self.value.0,
            step: self.step.map_or(0, |s| s.0),
            timestamp: self.timestamp.map_or_else(verity_store::now_ms, |t| t.0),
        }
    }
}

/// `max_results` (`default` when absent), between 1 and `max`.
pub fn result_count(
    max_results: Option<Int>,
    default: i64,
    max: i64,
) -> Result<usize, MlflowError> {
    let n = max_results.map_or(default, |m| m.0);
    if !(1..=max).contains(&n) {
        return Err(MlflowError::invalid(format!(
            "max_results must be between 1 and {max}, got {n}"
        )));
    }
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// The page an MLflow search asks for: `max_results` (`default` when absent, at most `max`)
/// served in pages of at most 1000 from `page_token` (the client follows `next_page_token`).
pub fn page(
    max_results: Option<Int>,
    default: i64,
    max: i64,
    page_token: Option<&str>,
) -> Result<PageRequest, MlflowError> {
    let n = result_count(max_results, default, max)?;
    let token = page_token.filter(|t| !t.is_empty());
    Ok(PageRequest::new(u32::try_from(n.min(1000)).ok(), token)?)
}

/// `{key: items}`, with `next_page_token` only when a next page exists (as MLflow answers).
pub fn paged(key: &str, items: Vec<Value>, next: Option<String>) -> Value {
    let mut out = Map::new();
    out.insert(key.to_owned(), Value::Array(items));
    if let Some(token) = next {
        out.insert("next_page_token".to_owned(), Value::String(token));
    }
    Value::Object(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Both {
        n: Int,
        x: Double,
    }

    #[test]
    fn numbers_arrive_as_numbers_or_strings() {
        let parsed: Both = serde_json::from_value(json!({"n": "42", "x": "NaN"})).unwrap();
        assert_eq!(parsed.n, Int(42));
        assert!(parsed.x.0.is_nan());
        let parsed: Both = serde_json::from_value(json!({"n": 7, "x": "-Infinity"})).unwrap();
        assert_eq!((parsed.n, parsed.x.0), (Int(7), f64::NEG_INFINITY));
        let parsed: Both = serde_json::from_value(json!({"n": -1, "x": 0.25})).unwrap();
        assert_eq!(parsed.x, Double(0.25));
        for bad in [
            json!({"n": 1.5, "x": 1}),
            json!({"n": "x", "x": 1}),
            json!({"n": 1, "x": "fast"}),
            json!({"n": 1, "x": [1]}),
        ] {
            assert!(
                serde_json::from_value::<Both>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn bodies_with_nul_are_refused_wherever_it_hides() {
        #[derive(Debug, Deserialize)]
        struct B {
            #[allow(dead_code)]
            tags: Vec<Value>,
        }
        for refused in [
            r#"{"tags": [{"key": "k", "value": "a\u0000b"}]}"#,
            r#"{"tags": [{"key\u0000": "v"}]}"#,
            r#"{"tags": [], "other": "\U0000"}"#,
        ] {
            let bytes = Bytes::from(refused);
            let result: Result<B, _> = body(&bytes);
            if refused.contains("U0000") {
                // `\U` is not a JSON escape: invalid JSON, refused as such.
                assert!(result.is_err(), "{refused}");
                continue;
            }
            let err = result.unwrap_err();
            assert!(format!("{err:?}").contains("NUL"), "{refused}: {err:?}");
        }
        // An escaped backslash followed by u0000 is text, not NUL.
        let ok: B = body(&Bytes::from(r#"{"tags": ["\\u0000"]}"#)).unwrap();
        assert_eq!(ok.tags, [json!("\\u0000")]);
        let fast: B = body(&Bytes::from(r#"{"tags": [1, 2]}"#)).unwrap();
        assert_eq!(fast.tags.len(), 2);
    }

    #[test]
    fn doubles_leave_as_mlflow_writes_them() {
        assert_eq!(double(f64::NAN), json!("NaN"));
        assert_eq!(double(f64::INFINITY), json!("Infinity"));
        assert_eq!(double(f64::NEG_INFINITY), json!("-Infinity"));
        assert_eq!(double(1.5), json!(1.5));
    }

    #[test]
    fn view_types_by_name_or_number() {
        assert_eq!(view_type(None).unwrap(), ViewType::ActiveOnly);
        assert_eq!(view_type(Some(&json!("ALL"))).unwrap(), ViewType::All);
        assert_eq!(view_type(Some(&json!(2))).unwrap(), ViewType::DeletedOnly);
        assert_eq!(view_type(Some(&json!("3"))).unwrap(), ViewType::All);
        assert!(view_type(Some(&json!("SOME"))).is_err());
        assert!(view_type(Some(&json!(9))).is_err());
    }

    #[test]
    fn queries_repeat_keys_as_lists() {
        #[derive(Deserialize)]
        struct Q {
            a: Vec<String>,
            b: String,
        }
        let q: Q = query(Some("a=1&a=2&b=x%20y")).unwrap();
        assert_eq!(
            (q.a, q.b),
            (vec!["1".to_owned(), "2".to_owned()], "x y".to_owned())
        );
        assert!(query::<Q>(Some("a=1")).is_err());
        assert!(body::<Q>(&Bytes::from_static(b"{not json")).is_err());
        let empty: serde_json::Map<String, Value> = body(&Bytes::from_static(b"  ")).unwrap();
        assert!(empty.is_empty());
    }
}
