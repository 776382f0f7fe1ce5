//! Cleaning a column side, inferring its kind and counting its categories the way Evidently
//! 0.7 (on pandas) does.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::{ColumnData, ColumnKind};

/// Evidently's `INTEGER_CARDINALITY_LIMIT` (`evidently/core/datasets.py`): an integer column
/// with at most this many distinct values is categorical.
pub(crate) const INTEGER_CARDINALITY_LIMIT: usize = 10;

/// One side of a column after Evidently's cleaning (`replace([-inf, inf], nan).dropna()`).
#[derive(Debug, Clone)]
pub(crate) enum Values<'a> {
    /// A float column (pandas `float64`): finite values only.
    Float(Vec<f64>),
    /// An integer column with no missing value (pandas `int64`).
    Int(Vec<i64>),
    /// A boolean column.
    Bool(Vec<bool>),
    /// A string column as its distinct values (ascending by code point) with their counts.
    Str(Vec<(&'a str, u64)>),
}

/// A cleaned side and how many values it lost.
#[derive(Debug, Clone)]
pub(crate) struct Side<'a> {
    pub values: Values<'a>,
    /// Missing values dropped: nulls, NaN and ±inf.
    pub missing: u64,
}

impl Side<'_> {
    pub(crate) fn len(&self) -> usize {
        match &self.values {
            Values::Float(v) => v.len(),
            Values::Int(v) => v.len(),
            Values::Bool(v) => v.len(),
            Values::Str(v) => {
                usize::try_from(v.iter().map(|(_, n)| n).sum::<u64>()).unwrap_or(usize::MAX)
            }
        }
    }

    /// The values as ascending floats (`None` for strings). Integers above 2^53 round, as
    /// they do in NumPy's float arithmetic.
    pub(crate) fn sorted_f64(&self) -> Option<Vec<f64>> {
        let mut v: Vec<f64> = match &self.values {
            Values::Float(v) => v.clone(),
            Values::Int(v) => v.iter().map(|&x| x as f64).collect(),
            Values::Bool(v) => v.iter().map(|&b| f64::from(u8::from(b))).collect(),
            Values::Str(_) => return None,
        };
        // Equal elements under `total_cmp` are bit-identical, so an unstable sort is exact.
        v.sort_unstable_by(f64::total_cmp);
        Some(v)
    }
}

/// Cleans one side. An integer column with a missing value becomes a float column, as pandas
/// stores it (`float64` with NaN), so it is typed and binned as floats.
pub(crate) fn clean(data: &ColumnData) -> Side<'_> {
    let total = data.len() as u64;
    let values = match data {
        ColumnData::Numeric(v) => {
            Values::Float(v.iter().copied().filter(|x| x.is_finite()).collect())
        }
        ColumnData::Integer(v) => {
            let present: Vec<i64> = v.iter().flatten().copied().collect();
            if present.len() == v.len() {
                Values::Int(present)
            } else {
                Values::Float(present.iter().map(|&x| x as f64).collect())
            }
        }
        ColumnData::Boolean(v) => Values::Bool(v.iter().flatten().copied().collect()),
        ColumnData::Categorical(v) => {
            let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
            for value in v.iter().flatten() {
                *counts.entry(value.as_str()).or_default() += 1;
            }
            Values::Str(counts.into_iter().collect())
        }
        ColumnData::CategoryCounts { counts, .. } => {
            let mut merged: BTreeMap<&str, u64> = BTreeMap::new();
            for (value, n) in counts.iter().filter(|(_, n)| *n > 0) {
                *merged.entry(value.as_str()).or_default() += n;
            }
            Values::Str(merged.into_iter().collect())
        }
    };
    let mut side = Side { values, missing: 0 };
    side.missing = total - side.len() as u64;
    side
}

/// Evidently 0.7's `infer_column_type`, applied (as its `Report` does) to the *current* data:
/// floats are numerical; integers are categorical with at most 10 distinct values (an integer
/// column with a missing value is `float64` in pandas, hence numerical); booleans are
/// categorical; strings are text when more than half of the non-missing values are distinct,
/// categorical otherwise.
pub(crate) fn infer_kind(current: &ColumnData, cleaned: &Side<'_>) -> ColumnKind {
    match (current, &cleaned.values) {
        (ColumnData::Numeric(_), _) | (ColumnData::Integer(_), Values::Float(_)) => {
            ColumnKind::Numerical
        }
        (ColumnData::Integer(_), Values::Int(v)) => {
            if distinct_count(v) <= INTEGER_CARDINALITY_LIMIT {
                ColumnKind::Categorical
            } else {
                ColumnKind::Numerical
            }
        }
        (ColumnData::Boolean(_), _) => ColumnKind::Categorical,
        (ColumnData::Categorical(_) | ColumnData::CategoryCounts { .. }, Values::Str(v)) => {
            let rows: u64 = v.iter().map(|(_, n)| n).sum();
            if v.len() as f64 > rows as f64 * 0.5 {
                ColumnKind::Text
            } else {
                ColumnKind::Categorical
            }
        }
        _ => ColumnKind::Categorical,
    }
}

fn distinct_count<T: Ord + Clone>(values: &[T]) -> usize {
    let mut v = values.to_vec();
    v.sort();
    v.dedup();
    v.len()
}

/// A float ordered by value (no NaN reaches here; `-0.0` is folded into `0.0`, as pandas'
/// hash tables do).
#[derive(Debug, Clone, Copy)]
struct Key(f64);

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.0 + 0.0).total_cmp(&(other.0 + 0.0))
    }
}

/// The union of both sides' categories in ascending order (numbers by value, strings by code
/// point, `false < true`), with each side's count. The order fixes the Z-test's first category.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Categories {
    /// Display labels.
    pub labels: Vec<String>,
    /// Reference counts.
    pub reference: Vec<u64>,
    /// Current counts.
    pub current: Vec<u64>,
}

fn count<K: Ord>(
    reference: impl Iterator<Item = K>,
    current: impl Iterator<Item = K>,
) -> BTreeMap<K, (u64, u64)> {
    let mut map: BTreeMap<K, (u64, u64)> = BTreeMap::new();
    for k in reference {
        map.entry(k).or_default().0 += 1;
    }
    for k in current {
        map.entry(k).or_default().1 += 1;
    }
    map
}

fn collect<K: Ord>(map: BTreeMap<K, (u64, u64)>, label: impl Fn(&K) -> String) -> Categories {
    let mut out = Categories::default();
    for (k, (r, c)) in map {
        out.labels.push(label(&k));
        out.reference.push(r);
        out.current.push(c);
    }
    out
}

fn as_floats<'v>(values: &'v Values<'_>) -> Box<dyn Iterator<Item = Key> + 'v> {
    match values {
        Values::Float(v) => Box::new(v.iter().map(|&x| Key(x))),
        Values::Int(v) => Box::new(v.iter().map(|&x| Key(x as f64))),
        Values::Bool(v) => Box::new(v.iter().map(|&b| Key(f64::from(u8::from(b))))),
        Values::Str(_) => Box::new(std::iter::empty()),
    }
}

/// Counts the categories of both sides (the caller has checked that the sides are of
/// compatible types; strings never mix with numbers).
pub(crate) fn categories(reference: &Side<'_>, current: &Side<'_>) -> Categories {
    match (&reference.values, &current.values) {
        (Values::Str(r), Values::Str(c)) => {
            let mut map: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
            for (k, n) in r {
                map.entry(k).or_default().0 += n;
            }
            for (k, n) in c {
                map.entry(k).or_default().1 += n;
            }
            collect(map, |k| (*k).to_string())
        }
        (Values::Int(r), Values::Int(c)) => {
            collect(count(r.iter().copied(), c.iter().copied()), |k| {
                k.to_string()
            })
        }
        (Values::Bool(r), Values::Bool(c)) => {
            collect(count(r.iter().copied(), c.iter().copied()), |k| {
                if *k {
                    "True".to_string()
                } else {
                    "False".to_string()
                }
            })
        }
        (r, c) => collect(count(as_floats(r), as_floats(c)), |k| {
            format_float(k.0 + 0.0)
        }),
    }
}

/// A float label: integral values without a fraction (`3`), others in shortest form.
fn format_float(x: f64) -> String {
    format!("{x}")
}

/// The distinct values of two ascending float samples, ascending.
pub(crate) fn distinct_union(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut all: Vec<f64> = a.iter().chain(b).map(|&x| x + 0.0).collect();
    all.sort_by(f64::total_cmp);
    all.dedup();
    all
}

/// The number of distinct values of two ascending float samples together, without allocating.
pub(crate) fn distinct_union_count(a: &[f64], b: &[f64]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    let mut last: Option<f64> = None;
    while i < a.len() || j < b.len() {
        let next = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) if Key(x) <= Key(y) => {
                i += 1;
                x
            }
            (_, Some(&y)) => {
                j += 1;
                y
            }
            (Some(&x), None) => {
                i += 1;
                x
            }
            (None, None) => break,
        } + 0.0;
        if last.is_none_or(|l| Key(l) != Key(next)) {
            n += 1;
            last = Some(next);
        }
    }
    n
}

/// The number of distinct values of one ascending float sample.
pub(crate) fn distinct_sorted(a: &[f64]) -> usize {
    let mut n = 0;
    let mut last: Option<f64> = None;
    for &x in a {
        if last != Some(x) {
            n += 1;
            last = Some(x);
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_drops_nan_inf_and_nulls() {
        let data = ColumnData::Numeric(vec![1.0, f64::NAN, f64::INFINITY, -f64::INFINITY, 2.0]);
        let s = clean(&data);
        assert_eq!(s.len(), 2);
        assert_eq!(s.missing, 3);
        let data = ColumnData::Integer(vec![Some(1), None, Some(3)]);
        let s = clean(&data);
        assert!(matches!(s.values, Values::Float(_)));
        assert_eq!(s.missing, 1);
        let data = ColumnData::Categorical(vec![None, Some("a".into())]);
        let s = clean(&data);
        assert_eq!((s.len(), s.missing), (1, 1));
    }

    /// `infer_column_type`: int64 with <= 10 distinct values is categorical, 11 numerical;
    /// a string column with more than half distinct values is text.
    #[test]
    fn kinds_like_evidently() {
        let ints: Vec<Option<i64>> = (0..100).map(|i| Some(i % 10)).collect();
        let data = ColumnData::Integer(ints);
        assert_eq!(infer_kind(&data, &clean(&data)), ColumnKind::Categorical);
        let data = ColumnData::Integer((0..100).map(|i| Some(i % 11)).collect());
        assert_eq!(infer_kind(&data, &clean(&data)), ColumnKind::Numerical);
        let data = ColumnData::Integer(vec![Some(0), None, Some(1)]);
        assert_eq!(infer_kind(&data, &clean(&data)), ColumnKind::Numerical);
        let data = ColumnData::Numeric(vec![0.0, 1.0]);
        assert_eq!(infer_kind(&data, &clean(&data)), ColumnKind::Numerical);
        let strings =
            |v: &[&str]| ColumnData::Categorical(v.iter().map(|s| Some(s.to_string())).collect());
        let data = strings(&["a", "b", "a", "b"]);
        assert_eq!(infer_kind(&data, &clean(&data)), ColumnKind::Categorical);
        let data = strings(&["a", "b", "c", "a"]);
        assert_eq!(infer_kind(&data, &clean(&data)), ColumnKind::Text);
    }

    #[test]
    fn categories_sorted_and_merged() {
        let r = ColumnData::Numeric(vec![2.0, -0.0, 1.0]);
        let c = ColumnData::Integer(vec![Some(0), Some(2), Some(2), None]);
        let cats = categories(&clean(&r), &clean(&c));
        assert_eq!(cats.labels, vec!["0", "1", "2"]);
        assert_eq!(cats.reference, vec![1, 1, 1]);
        assert_eq!(cats.current, vec![1, 0, 2]);
        assert_eq!(
            distinct_union(&[0.0, 1.0], &[-0.0, 3.0]),
            vec![0.0, 1.0, 3.0]
        );
        assert_eq!(distinct_sorted(&[1.0, 1.0, 2.0]), 2);
        assert_eq!(distinct_union_count(&[-0.0, 1.0, 1.0], &[0.0, 0.5, 3.0]), 4);
        assert_eq!(distinct_union_count(&[], &[2.0, 2.0]), 1);
        assert_eq!(distinct_union_count(&[], &[]), 0);
    }

    #[test]
    fn category_counts_equal_rows() {
        let rows = ColumnData::Categorical(vec![
            Some("b".into()),
            None,
            Some("a".into()),
            Some("b".into()),
        ]);
        let counted = ColumnData::CategoryCounts {
            counts: vec![("b".into(), 2), ("a".into(), 1), ("z".into(), 0)],
            missing: 1,
        };
        assert_eq!(rows.len(), counted.len());
        let (r, c) = (clean(&rows), clean(&counted));
        assert_eq!((r.len(), r.missing), (c.len(), c.missing));
        assert_eq!(categories(&r, &r), categories(&c, &c));
        assert_eq!(infer_kind(&rows, &r), infer_kind(&counted, &c));
    }
}
