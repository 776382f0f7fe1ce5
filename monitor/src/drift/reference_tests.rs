//! Agreement with Evidently 0.7.23 / SciPy 1.17.1 on generated datasets.
//!
//! `reference_cases.rs` is written by `monitor/tests/reference/drift_reference.py`, which builds
//! the datasets below from a 64-bit LCG (reproduced here bit for bit), runs Evidently's
//! `ValueDrift` computation (`get_one_column_drift` with the column type from
//! `Dataset.from_pandas(current)`, exactly as `ValueDriftCalculation` does) for the default
//! method and for forced methods, and `Report([DataDriftPreset()])` for the dataset-level
//! `DriftedColumnsCount`. Every case must give the same kind, method and drift decision, and a
//! score within 1e-6 relative (all methods here are deterministic computations, so all count
//! as exact).

use super::reference_cases::{DATASETS, EXPECTED};
use super::*;

/// How one side of a generated column is drawn (mirrors `generate` in the Python script).
pub(super) enum Recipe {
    /// Sum of 12 uniforms minus 6, times `scale`, plus `shift`; a first uniform below
    /// `missing` gives NaN, below `missing + inf` gives +inf on even rows and -inf on odd ones.
    Normal {
        seed: u64,
        shift: f64,
        scale: f64,
        missing: f64,
        inf: f64,
    },
    /// `floor(u * k)` (or `floor(u² * k)`); a first uniform below `missing` gives a null.
    Ints {
        seed: u64,
        k: i64,
        squared: bool,
        missing: f64,
    },
    /// The first label whose cumulative share exceeds a uniform; nulls as for `Ints`.
    Choice {
        seed: u64,
        labels: &'static [&'static str],
        cum: &'static [f64],
        missing: f64,
    },
    /// As `Choice`, with float values and no nulls.
    FloatChoice {
        seed: u64,
        values: &'static [f64],
        cum: &'static [f64],
    },
    /// `u < p`.
    Bools { seed: u64, p: f64 },
}

/// A generated column.
pub(super) struct ColumnSpec {
    pub name: &'static str,
    pub reference: Recipe,
    pub current: Recipe,
}

/// A generated dataset and Evidently's `DriftedColumnsCount` on it.
pub(super) struct DatasetSpec {
    pub name: &'static str,
    pub reference_rows: usize,
    pub current_rows: usize,
    pub columns: &'static [ColumnSpec],
    pub drifted_columns: usize,
    pub drifted_share: f64,
}

/// Evidently's result for one column and options.
pub(super) struct Expected {
    pub dataset: &'static str,
    pub column: &'static str,
    pub forced: Option<&'static str>,
    pub threshold: Option<f64>,
    /// `num` or `cat`.
    pub kind: &'static str,
    pub method: &'static str,
    pub score: f64,
    pub drifted: bool,
}

/// PCG's 64-bit LCG; uniforms are the top 53 bits.
struct Lcg(u64);

impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    fn normal(&mut self) -> f64 {
        let mut s = 0.0;
        for _ in 0..12 {
            s += self.uniform();
        }
        s - 6.0
    }
}

fn pick(cum: &[f64], v: f64) -> usize {
    cum.iter().position(|&c| v < c).unwrap_or(cum.len() - 1)
}

fn generate(recipe: &Recipe, n: usize) -> ColumnData {
    match *recipe {
        Recipe::Normal {
            seed,
            shift,
            scale,
            missing,
            inf,
        } => {
            let mut rng = Lcg(seed);
            ColumnData::Numeric(
                (0..n)
                    .map(|i| {
                        let u = rng.uniform();
                        if u < missing {
                            f64::NAN
                        } else if u < missing + inf {
                            if i % 2 == 0 {
                                f64::INFINITY
                            } else {
                                f64::NEG_INFINITY
                            }
                        } else {
                            rng.normal() * scale + shift
                        }
                    })
                    .collect(),
            )
        }
        Recipe::Ints {
            seed,
            k,
            squared,
            missing,
        } => {
            let mut rng = Lcg(seed);
            ColumnData::Integer(
                (0..n)
                    .map(|_| {
                        if rng.uniform() < missing {
                            return None;
                        }
                        let mut v = rng.uniform();
                        if squared {
                            v *= v;
                        }
                        Some((v * k as f64).floor() as i64)
                    })
                    .collect(),
            )
        }
        Recipe::Choice {
            seed,
            labels,
            cum,
            missing,
        } => {
            let mut rng = Lcg(seed);
            ColumnData::Categorical(
                (0..n)
                    .map(|_| {
                        if rng.uniform() < missing {
                            return None;
                        }
                        Some(labels[pick(cum, rng.uniform())].to_string())
                    })
                    .collect(),
            )
        }
        Recipe::FloatChoice { seed, values, cum } => {
            let mut rng = Lcg(seed);
            ColumnData::Numeric((0..n).map(|_| values[pick(cum, rng.uniform())]).collect())
        }
        Recipe::Bools { seed, p } => {
            let mut rng = Lcg(seed);
            ColumnData::Boolean((0..n).map(|_| Some(rng.uniform() < p)).collect())
        }
    }
}

fn dataset(name: &str) -> &'static DatasetSpec {
    DATASETS
        .iter()
        .find(|d| d.name == name)
        .expect("dataset in reference_cases.rs")
}

/// A generated column: name, reference side, current side.
type Generated = (&'static str, ColumnData, ColumnData);

fn columns(spec: &DatasetSpec) -> Vec<Generated> {
    spec.columns
        .iter()
        .map(|c| {
            (
                c.name,
                generate(&c.reference, spec.reference_rows),
                generate(&c.current, spec.current_rows),
            )
        })
        .collect()
}

/// Relative difference, with values below 1e-300 (SciPy's subnormal chi-squared tails, which
/// statrs rounds to 0) treated as equal.
fn relative_error(got: f64, expected: f64) -> f64 {
    if got.abs() < 1e-300 && expected.abs() < 1e-300 {
        return 0.0;
    }
    (got - expected).abs() / expected.abs().max(f64::MIN_POSITIVE)
}

/// Every column and forced method of `reference_cases.rs`: same kind, method and decision,
/// score within 1e-6 relative. Follows Evidently's `registry.py` (choice), `ks_stattest.py`,
/// `chisquare_stattest.py`, `z_stattest.py`, `wasserstein_distance_norm.py`, `jensenshannon.py`,
/// `psi.py`, `kl_div.py`, `hellinger_distance.py` and `utils.py` (`get_binned_data`).
#[test]
fn columns_agree_with_evidently() {
    let mut failures = Vec::new();
    let mut worst = (0.0f64, "");
    let mut generated: Vec<(&str, Vec<Generated>)> = Vec::new();
    for e in EXPECTED {
        if !generated.iter().any(|(n, _)| *n == e.dataset) {
            generated.push((e.dataset, columns(dataset(e.dataset))));
        }
        let cols = &generated
            .iter()
            .find(|(n, _)| *n == e.dataset)
            .expect("generated")
            .1;
        let (_, reference, current) = cols
            .iter()
            .find(|(n, _, _)| *n == e.column)
            .expect("column");
        let options = ColumnOptions {
            method: e.forced.map(|m| m.parse().expect("method name")),
            threshold: e.threshold,
            ..Default::default()
        };
        let label = format!(
            "{}.{} ({})",
            e.dataset,
            e.column,
            e.forced.unwrap_or("default")
        );
        let d = match column_drift(e.column, reference, current, &options) {
            Ok(d) => d,
            Err(err) => {
                failures.push(format!("{label}: error {err}"));
                continue;
            }
        };
        let kind = match d.kind {
            ColumnKind::Numerical => "num",
            ColumnKind::Categorical => "cat",
            ColumnKind::Text => "text",
        };
        let method = d.method.map(Method::as_str).unwrap_or("none");
        let score = d.score.unwrap_or(f64::NAN);
        let rel = relative_error(score, e.score);
        if rel > worst.0 || rel.is_nan() {
            worst = (rel, e.column);
        }
        let score_ok = rel <= 1e-6;
        if kind != e.kind || method != e.method || d.drifted != e.drifted || !score_ok {
            failures.push(format!(
                "{label}: got {kind}/{method}/{score:e}/{} expected {}/{}/{:e}/{} (rel {rel:e})",
                d.drifted, e.kind, e.method, e.score, e.drifted
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        worst.0 <= 1e-6,
        "worst relative error {:e} ({})",
        worst.0,
        worst.1
    );
}

/// Evidently's `DriftedColumnsCount` from `Report([DataDriftPreset()])` on each dataset.
#[test]
fn dataset_share_agrees_with_evidently() {
    for spec in DATASETS {
        let results: Vec<ColumnDrift> = columns(spec)
            .iter()
            .map(|(name, r, c)| column_drift(name, r, c, &ColumnOptions::default()).expect("valid"))
            .collect();
        let d = dataset_drift(results, DEFAULT_DRIFT_SHARE);
        assert_eq!(d.number_of_columns, spec.columns.len(), "{}", spec.name);
        assert_eq!(
            d.number_of_drifted_columns, spec.drifted_columns,
            "{}",
            spec.name
        );
        assert!(
            (d.share_of_drifted_columns - spec.drifted_share).abs() < 1e-12,
            "{}",
            spec.name
        );
        assert_eq!(
            d.dataset_drift,
            spec.drifted_share >= DEFAULT_DRIFT_SHARE,
            "{}",
            spec.name
        );
    }
}
