//! Wire types shared by several routes: pages, key/value pairs and JSON floats; and reading
//! a store listing page by page.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::{IntoParams, ToSchema};
use verity_store::PageRequest;
use verity_store::model::Page;

use crate::error::ApiResult;

/// `?limit=&cursor=` of a listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page (1..=1000, default 100).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The validated page request.
    pub fn request(&self) -> ApiResult<PageRequest> {
        Ok(PageRequest::new(self.limit, self.cursor.as_deref())?)
    }

    /// The validated page request of a query that has `limit` and `cursor` among other
    /// filters (`#[serde(flatten)]` would lose the numbers' types in query strings).
    pub fn request_of(limit: Option<u32>, cursor: Option<String>) -> ApiResult<PageRequest> {
        Self { limit, cursor }.request()
    }
}

/// Reads a store listing page by page (1,000 items a page) until it ends or holds more than
/// `max` items; callers that must not read past a bound check `len() > max`.
pub async fn read_pages<T, F, Fut>(max: usize, mut fetch: F) -> ApiResult<Vec<T>>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = verity_store::Result<Page<T>>>,
{
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let request = PageRequest::new(Some(1000), cursor.as_deref())?;
        let page = fetch(request).await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(next) if items.len() <= max => cursor = Some(next),
            _ => return Ok(items),
        }
    }
}

/// A page of items.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListResponse<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> ListResponse<T> {
    /// Converts a store page.
    pub fn from_page<U>(page: Page<U>, f: impl FnMut(U) -> T) -> Self {
        let page = page.map(f);
        Self {
            items: page.items,
            next_cursor: page.next_cursor,
        }
    }
}

/// A key/value pair (param or tag).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyValue {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

impl From<verity_store::model::KeyValue> for KeyValue {
    fn from(kv: verity_store::model::KeyValue) -> Self {
        Self {
            key: kv.key,
            value: kv.value,
        }
    }
}

impl From<KeyValue> for verity_store::model::KeyValue {
    fn from(kv: KeyValue) -> Self {
        Self {
            key: kv.key,
            value: kv.value,
        }
    }
}

/// A float that keeps NaN and the infinities: JSON numbers, or the strings `"NaN"`,
/// `"Infinity"` and `"-Infinity"` (the proto3 JSON convention MLflow clients use).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Float(pub f64);

impl Serialize for Float {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_nan() {
            s.serialize_str("NaN")
        } else if v == f64::INFINITY {
            s.serialize_str("Infinity")
        } else if v == f64::NEG_INFINITY {
            s.serialize_str("-Infinity")
        } else {
            s.serialize_f64(v)
        }
    }
}

impl<'de> Deserialize<'de> for Float {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FloatVisitor;
        impl serde::de::Visitor<'_> for FloatVisitor {
            type Value = Float;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number or \"NaN\", \"Infinity\", \"-Infinity\"")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Float, E> {
                Ok(Float(v))
            }
            #[allow(clippy::cast_precision_loss)]
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Float, E> {
                Ok(Float(v as f64))
            }
            #[allow(clippy::cast_precision_loss)]
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Float, E> {
                Ok(Float(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Float, E> {
                match v {
                    "NaN" => Ok(Float(f64::NAN)),
                    "Infinity" => Ok(Float(f64::INFINITY)),
                    "-Infinity" => Ok(Float(f64::NEG_INFINITY)),
                    other => Err(E::custom(format!(
                        "expected a number or \"NaN\", \"Infinity\", \"-Infinity\", found \"{other}\""
                    ))),
                }
            }
        }
        d.deserialize_any(FloatVisitor)
    }
}

/// Deserializes a field that distinguishes absent (`None`, with `#[serde(default)]`) from
/// `null` (`Some(None)`) and a value (`Some(Some(v))`).
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::Float;

    #[test]
    fn floats_keep_nan_and_infinities() -> Result<(), serde_json::Error> {
        let values: Vec<Float> =
            serde_json::from_str(r#"[1.5, 2, "NaN", "Infinity", "-Infinity"]"#)?;
        assert_eq!(values[0], Float(1.5));
        assert_eq!(values[1], Float(2.0));
        assert!(values[2].0.is_nan());
        assert_eq!(values[3].0, f64::INFINITY);
        assert_eq!(values[4].0, f64::NEG_INFINITY);
        assert_eq!(
            serde_json::to_string(&values)?,
            r#"[1.5,2.0,"NaN","Infinity","-Infinity"]"#
        );
        assert!(serde_json::from_str::<Float>(r#""abc""#).is_err());
        assert!(serde_json::from_str::<Float>("true").is_err());
        Ok(())
    }
}
