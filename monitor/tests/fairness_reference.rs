//! Agreement with Fairlearn 0.15 (and AIF360's formulas) on reference data produced by
//! `tests/reference/fairness_reference.py`: 10,000 LCG rows with two sensitive columns, plus
//! tiny edge cases with zero denominators and undefined ratios.
#![allow(clippy::unwrap_used, clippy::type_complexity, missing_docs)]

use verity_monitor::fairness::{
    Convention, EqualizedOddsAgg, FairnessAccumulator, FairnessConfig, FairnessMetric,
    FairnessReport, GroupMetrics, GroupSelector, Labels,
};

/// One tiny case from the script.
pub struct EdgeCase {
    pub name: &'static str,
    pub labels: &'static [i64],
    pub predictions: &'static [i64],
    pub groups: &'static [&'static str],
    pub by_group: &'static [(&'static str, u64, f64, f64, f64, f64, f64, f64, f64)],
    pub fairlearn: &'static [(&'static str, &'static str, Option<&'static str>, f64)],
}

include!("reference/fairness_values.rs");

const TOLERANCE: f64 = 1e-9;

/// The script's generator: Knuth's MMIX LCG, top 31 bits.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

struct Data {
    g1: Vec<&'static str>,
    g2: Vec<&'static str>,
    labels: Vec<i64>,
    scores: Vec<f64>,
}

fn generate() -> Data {
    let mut rng = Lcg(20240611);
    let mut d = Data {
        g1: vec![],
        g2: vec![],
        labels: vec![],
        scores: vec![],
    };
    for _ in 0..DATA_CHECK.0 {
        let r = rng.next() % 100;
        let g1 = if r < 50 {
            "a"
        } else if r < 80 {
            "b"
        } else {
            "c"
        };
        let mut g2 = if rng.next() % 100 < 60 { "x" } else { "y" };
        if g1 == "c" {
            g2 = "x";
        }
        let base = match g1 {
            "a" => 400,
            "b" => 300,
            _ => 500,
        };
        let label = i64::from(rng.next() % 1000 < base);
        let u = (rng.next() % 1_000_000) as f64 / 1_000_000.0;
        let mut score = u + 0.3 * label as f64;
        if g1 == "a" {
            score += 0.1;
        }
        if g2 == "y" {
            score += 0.05;
        }
        d.g1.push(g1);
        d.g2.push(g2);
        d.labels.push(label);
        d.scores.push(score);
    }
    d
}

fn metric(name: &str) -> FairnessMetric {
    match name {
        "DemographicParityDifference" => FairnessMetric::DemographicParityDifference,
        "DemographicParityRatio" => FairnessMetric::DemographicParityRatio,
        "EqualizedOddsDifference" => FairnessMetric::EqualizedOddsDifference,
        "EqualizedOddsRatio" => FairnessMetric::EqualizedOddsRatio,
        "EqualOpportunityDifference" => FairnessMetric::EqualOpportunityDifference,
        "EqualOpportunityRatio" => FairnessMetric::EqualOpportunityRatio,
        "StatisticalParityDifference" => FairnessMetric::StatisticalParityDifference,
        "DisparateImpact" => FairnessMetric::DisparateImpact,
        "AverageOddsDifference" => FairnessMetric::AverageOddsDifference,
        other => panic!("unknown metric {other}"),
    }
}

fn convention(method: &str) -> Convention {
    match method {
        "between_groups" => Convention::FairlearnBetweenGroups,
        "to_overall" => Convention::FairlearnToOverall,
        other => panic!("unknown method {other}"),
    }
}

fn agg(name: Option<&str>) -> Option<EqualizedOddsAgg> {
    name.map(|a| match a {
        "worst_case" => EqualizedOddsAgg::WorstCase,
        "mean" => EqualizedOddsAgg::Mean,
        other => panic!("unknown agg {other}"),
    })
}

/// Largest deviation seen, to print.
#[derive(Default)]
struct Worst(f64);

impl Worst {
    /// Compares an expected value (NaN = undefined) with ours (None = undefined).
    fn check(&mut self, what: &str, expected: f64, got: Option<f64>) {
        if expected.is_nan() {
            assert_eq!(got, None, "{what}: Fairlearn gives NaN");
            return;
        }
        let got = got.unwrap_or_else(|| panic!("{what}: undefined, expected {expected}"));
        let dev = (got - expected).abs();
        assert!(
            dev <= TOLERANCE,
            "{what}: {got} vs {expected} (|Δ| = {dev:e})"
        );
        self.0 = self.0.max(dev);
    }

    fn rates(&mut self, what: &str, g: &GroupMetrics, count: u64, expected: [f64; 7]) {
        assert_eq!(g.count, count, "{what}: count");
        let r = g.rates;
        let got = [
            r.selection_rate,
            r.true_positive_rate,
            r.false_positive_rate,
            r.false_negative_rate,
            r.true_negative_rate,
            r.precision,
            r.accuracy,
        ];
        for (i, (e, g)) in expected.iter().zip(got).enumerate() {
            self.check(&format!("{what} rate #{i}"), *e, Some(g));
        }
    }

    fn fairlearn(
        &mut self,
        what: &str,
        report: &FairnessReport,
        expected: &[(&str, &str, Option<&str>, f64)],
    ) {
        assert_eq!(expected.len(), 16);
        for &(m, method, a, value) in expected {
            let got = report
                .figure(metric(m), convention(method), agg(a))
                .unwrap();
            self.check(&format!("{what} {m} {method} {a:?}"), value, got.value);
            assert_eq!(got.note.is_some(), value.is_nan());
        }
    }

    fn aif360(&mut self, what: &str, report: &FairnessReport, expected: &[(&str, f64)]) {
        for &(m, value) in expected {
            let got = report.value(metric(m), Convention::Aif360, None);
            self.check(&format!("{what} aif360 {m}"), value, got);
        }
    }
}

type Expected<'a> = (
    &'a [(&'a [&'a str], u64, f64, f64, f64, f64, f64, f64, f64)],
    (u64, f64, f64, f64, f64, f64, f64, f64),
    &'a [(&'a str, &'a str, Option<&'a str>, f64)],
    &'a [(&'a str, f64)],
);

fn compare(what: &str, report: &FairnessReport, expected: Expected<'_>) -> f64 {
    let (by_group, overall, fairlearn, aif360) = expected;
    let mut worst = Worst::default();
    assert_eq!(
        report.by_group.len(),
        by_group.len(),
        "{what}: observed groups"
    );
    for &(key, count, a, b, c, d, e, f, g) in by_group {
        let group = report.group(key).unwrap();
        worst.rates(
            &format!("{what} {key:?}"),
            group,
            count,
            [a, b, c, d, e, f, g],
        );
    }
    let (count, a, b, c, d, e, f, g) = overall;
    worst.rates(
        &format!("{what} overall"),
        &report.overall,
        count,
        [a, b, c, d, e, f, g],
    );
    worst.fairlearn(what, report, fairlearn);
    worst.aif360(what, report, aif360);
    worst.0
}

#[test]
fn generator_matches_the_script() {
    let d = generate();
    let labels = Labels::from_values(&d.labels, None).unwrap();
    let predictions = Labels::from_scores(&d.scores, 0.7).unwrap();
    let (rows, positive, selected, score_sum) = DATA_CHECK;
    assert_eq!(d.labels.len() as u64, rows);
    assert_eq!(
        labels.as_slice().iter().filter(|&&l| l).count() as u64,
        positive
    );
    assert_eq!(
        predictions.as_slice().iter().filter(|&&p| p).count() as u64,
        selected
    );
    // numpy sums pairwise, so only close.
    assert!((d.scores.iter().sum::<f64>() - score_sum).abs() < 1e-6);
}

#[test]
fn two_sensitive_columns_agree_with_fairlearn() {
    let d = generate();
    let labels = Labels::from_values(&d.labels, None).unwrap();
    let predictions = Labels::from_scores(&d.scores, 0.7).unwrap();
    let mut acc = FairnessAccumulator::new(["g1", "g2"]).unwrap();
    for start in (0..d.labels.len()).step_by(1000) {
        let end = (start + 1000).min(d.labels.len());
        acc.push_batch_multi(
            &labels.as_slice()[start..end],
            &predictions.as_slice()[start..end],
            &[&d.g1[start..end], &d.g2[start..end]],
        )
        .unwrap();
    }
    let config = FairnessConfig {
        privileged: vec![GroupSelector::exact(["a", "x"])],
    };
    let report = acc.finish(&config).unwrap();
    // (c, y) never occurs: Fairlearn shows it as a NaN row, we leave it out.
    assert!(report.group(&["c", "y"]).is_none());
    let worst = compare(
        "two",
        &report,
        (TWO_BY_GROUP, TWO_OVERALL, TWO_FAIRLEARN, TWO_AIF360),
    );
    println!("two sensitive columns: max |ours - fairlearn| = {worst:e}");

    // A partial selector (a, *) gives the same split as privileged = "a" on g1 alone.
    let partial = FairnessConfig {
        privileged: vec![GroupSelector {
            values: vec![Some("a".into()), None],
        }],
    };
    let report = acc.finish(&partial).unwrap();
    let mut w = Worst::default();
    w.aif360("two, (a, *)", &report, ONE_AIF360);
    assert_eq!(report.privileged.unwrap().privileged_groups.len(), 2);
}

#[test]
fn one_sensitive_column_agrees_with_fairlearn_by_every_push_path() {
    let d = generate();
    let (labels, predictions) = {
        let scores = Labels::from_scores(&d.scores, 0.7).unwrap();
        let p: Vec<i64> = scores.as_slice().iter().map(|&b| i64::from(b)).collect();
        Labels::pair_from_values(&d.labels, &p, None).unwrap()
    };
    let (labels, predictions) = (labels.as_slice(), predictions.as_slice());
    let config = FairnessConfig {
        privileged: vec![GroupSelector::exact(["a"])],
    };
    let expected = (ONE_BY_GROUP, ONE_OVERALL, ONE_FAIRLEARN, ONE_AIF360);

    let mut batch = FairnessAccumulator::new(["g1"]).unwrap();
    batch.push_batch(labels, predictions, &d.g1).unwrap();
    let report = batch.finish(&config).unwrap();
    let worst = compare("one", &report, expected);
    println!("one sensitive column: max |ours - fairlearn| = {worst:e}");

    // Dictionary-coded input, in two partitions merged.
    let mut left = FairnessAccumulator::new(["g1"]).unwrap();
    let mut right = FairnessAccumulator::new(["g1"]).unwrap();
    let half = labels.len() / 2;
    for (acc, range) in [(&mut left, 0..half), (&mut right, half..labels.len())] {
        let ids: Vec<_> = ["c", "b", "a"]
            .iter()
            .map(|g| acc.intern(&[*g]).unwrap())
            .collect();
        let codes: Vec<_> = d.g1[range.clone()]
            .iter()
            .map(|g| {
                ids[match *g {
                    "c" => 0,
                    "b" => 1,
                    _ => 2,
                }]
            })
            .collect();
        acc.push_coded(&labels[range.clone()], &predictions[range], &codes)
            .unwrap();
    }
    left.merge(&right).unwrap();
    assert_eq!(left.finish(&config).unwrap(), report);

    // Row by row.
    let mut rows = FairnessAccumulator::new(["g1"]).unwrap();
    for i in 0..labels.len() {
        rows.push(labels[i], predictions[i], &[d.g1[i]]).unwrap();
    }
    assert_eq!(rows.finish(&config).unwrap(), report);
}

#[test]
fn edge_cases_agree_with_fairlearn() {
    for case in EDGE {
        let (labels, predictions) =
            Labels::pair_from_values(case.labels, case.predictions, None).unwrap();
        let mut acc = FairnessAccumulator::new(["g"]).unwrap();
        acc.push_batch(labels.as_slice(), predictions.as_slice(), case.groups)
            .unwrap();
        let report = acc.finish(&FairnessConfig::default()).unwrap();
        let mut worst = Worst::default();
        assert_eq!(report.by_group.len(), case.by_group.len());
        for &(key, count, a, b, c, d, e, f, g) in case.by_group {
            let group = report.group(&[key]).unwrap();
            worst.rates(
                &format!("{} {key}", case.name),
                group,
                count,
                [a, b, c, d, e, f, g],
            );
        }
        worst.fairlearn(case.name, &report, case.fairlearn);
        assert_eq!(worst.0, 0.0, "{}: tiny cases agree exactly", case.name);
    }
}
