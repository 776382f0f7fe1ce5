//! Fairness figures on tiny inputs, with the arithmetic in comments, and bad input.
#![allow(clippy::unwrap_used, missing_docs)]

use verity_monitor::ErrorKind;
use verity_monitor::fairness::{
    Convention, EqualizedOddsAgg, FairnessAccumulator, FairnessConfig, FairnessMetric as M,
    FairnessReport, GroupMetrics, GroupSelector, Labels,
};

const EPS: f64 = 1e-12;

fn close(what: &str, got: f64, want: f64) {
    assert!((got - want).abs() <= EPS, "{what}: got {got}, want {want}");
}

/// Group A: (label, prediction) = (1,1) (1,0) (0,1) (0,0)           → TP 1, FN 1, FP 1, TN 1.
/// Group B: (1,1) (1,1) (1,0) (0,1) (0,0) (0,0) (0,0) (0,0)         → TP 2, FN 1, FP 1, TN 4.
fn rows_ab() -> (Vec<bool>, Vec<bool>, Vec<&'static str>) {
    let a = [(1, 1), (1, 0), (0, 1), (0, 0)];
    let b = [
        (1, 1),
        (1, 1),
        (1, 0),
        (0, 1),
        (0, 0),
        (0, 0),
        (0, 0),
        (0, 0),
    ];
    let mut out = (vec![], vec![], vec![]);
    for (group, rows) in [("A", &a[..]), ("B", &b[..])] {
        for &(l, p) in rows {
            out.0.push(l == 1);
            out.1.push(p == 1);
            out.2.push(group);
        }
    }
    out
}

fn report_ab(config: &FairnessConfig) -> FairnessReport {
    let (labels, predictions, groups) = rows_ab();
    let mut acc = FairnessAccumulator::new(["group"]).unwrap();
    acc.push_batch(&labels, &predictions, &groups).unwrap();
    acc.finish(config).unwrap()
}

/// [selection, TPR, FPR, FNR, TNR, precision, accuracy]
fn rates(g: &GroupMetrics) -> [f64; 7] {
    let r = g.rates;
    [
        r.selection_rate,
        r.true_positive_rate,
        r.false_positive_rate,
        r.false_negative_rate,
        r.true_negative_rate,
        r.precision,
        r.accuracy,
    ]
}

fn check_rates(what: &str, g: &GroupMetrics, want: [f64; 7]) {
    for (i, (got, want)) in rates(g).into_iter().zip(want).enumerate() {
        close(&format!("{what} #{i}"), got, want);
    }
}

#[test]
fn per_group_rates() {
    let r = report_ab(&FairnessConfig::default());
    let a = r.group(&["A"]).unwrap();
    assert_eq!(a.count, 4);
    // A: sel 2/4, TPR 1/2, FPR 1/2, FNR 1/2, TNR 1/2, precision 1/(1+1), accuracy 2/4.
    check_rates("A", a, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    let b = r.group(&["B"]).unwrap();
    assert_eq!(b.count, 8);
    // B: sel 3/8, TPR 2/3, FPR 1/5, FNR 1/3, TNR 4/5, precision 2/3, accuracy (2+4)/8.
    check_rates(
        "B",
        b,
        [0.375, 2.0 / 3.0, 0.2, 1.0 / 3.0, 0.8, 2.0 / 3.0, 0.75],
    );
    // Overall: TP 3, FN 2, FP 2, TN 5 → sel 5/12, TPR 3/5, FPR 2/7, FNR 2/5, TNR 5/7,
    // precision 3/5, accuracy 8/12.
    assert_eq!(r.rows, 12);
    assert!(r.overall.group.is_empty());
    check_rates(
        "overall",
        &r.overall,
        [5.0 / 12.0, 0.6, 2.0 / 7.0, 0.4, 5.0 / 7.0, 0.6, 8.0 / 12.0],
    );
    assert_eq!(
        r.by_group
            .iter()
            .map(|g| g.group[0].as_str())
            .collect::<Vec<_>>(),
        ["A", "B"]
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn fairlearn_between_groups() {
    let r = report_ab(&FairnessConfig::default());
    let v = |m, agg| r.value(m, Convention::FairlearnBetweenGroups, agg).unwrap();
    let (worst, mean) = (
        Some(EqualizedOddsAgg::WorstCase),
        Some(EqualizedOddsAgg::Mean),
    );
    // Selection rates 1/2, 3/8: difference 1/2 - 3/8 = 1/8, ratio (3/8)/(1/2) = 3/4.
    close("dpd", v(M::DemographicParityDifference, None), 0.125);
    close("dpr", v(M::DemographicParityRatio, None), 0.75);
    // TPR 1/2, 2/3: difference 1/6, ratio 3/4. FPR 1/2, 1/5: difference 3/10, ratio 2/5.
    close("eopd", v(M::EqualOpportunityDifference, None), 1.0 / 6.0);
    close("eopr", v(M::EqualOpportunityRatio, None), 0.75);
    // Equalized odds: worst max(1/6, 3/10) = 3/10, mean (1/6 + 3/10)/2 = 7/30;
    // ratio worst min(3/4, 2/5) = 2/5, mean (3/4 + 2/5)/2 = 23/40.
    close("eod worst", v(M::EqualizedOddsDifference, worst), 0.3);
    close("eod mean", v(M::EqualizedOddsDifference, mean), 7.0 / 30.0);
    close("eor worst", v(M::EqualizedOddsRatio, worst), 0.4);
    close("eor mean", v(M::EqualizedOddsRatio, mean), 23.0 / 40.0);
}

#[test]
fn fairlearn_to_overall() {
    let r = report_ab(&FairnessConfig::default());
    let v = |m, agg| r.value(m, Convention::FairlearnToOverall, agg).unwrap();
    let (worst, mean) = (
        Some(EqualizedOddsAgg::WorstCase),
        Some(EqualizedOddsAgg::Mean),
    );
    // Selection vs 5/12: |1/2 - 5/12| = 1/12, |3/8 - 5/12| = 1/24 → 1/12;
    // ratios (1/2)/(5/12) = 6/5 → 5/6, (3/8)/(5/12) = 9/10 → min 5/6.
    close("dpd", v(M::DemographicParityDifference, None), 1.0 / 12.0);
    close("dpr", v(M::DemographicParityRatio, None), 5.0 / 6.0);
    // TPR vs 3/5: |1/2 - 3/5| = 1/10, |2/3 - 3/5| = 1/15 → 1/10;
    // ratios 5/6 and 10/9 → 9/10 → 5/6.
    close("eopd", v(M::EqualOpportunityDifference, None), 0.1);
    close("eopr", v(M::EqualOpportunityRatio, None), 5.0 / 6.0);
    // FPR vs 2/7: |1/2 - 2/7| = 3/14, |1/5 - 2/7| = 3/35 → 3/14;
    // ratios (1/2)/(2/7) = 7/4 → 4/7, (1/5)/(2/7) = 7/10 → 4/7.
    // Equalized odds: worst max(1/10, 3/14) = 3/14, mean (1/10 + 3/14)/2 = 11/70;
    // ratio worst min(5/6, 4/7) = 4/7, mean (5/6 + 4/7)/2 = 59/84.
    close(
        "eod worst",
        v(M::EqualizedOddsDifference, worst),
        3.0 / 14.0,
    );
    close("eod mean", v(M::EqualizedOddsDifference, mean), 11.0 / 70.0);
    close("eor worst", v(M::EqualizedOddsRatio, worst), 4.0 / 7.0);
    close("eor mean", v(M::EqualizedOddsRatio, mean), 59.0 / 84.0);
}

#[test]
fn aif360_with_a_privileged_group() {
    let config = FairnessConfig {
        privileged: vec![GroupSelector::exact(["A"])],
    };
    let r = report_ab(&config);
    let v = |m| r.value(m, Convention::Aif360, None).unwrap();
    // Privileged A: sel 1/2, TPR 1/2, FPR 1/2. Unprivileged B: sel 3/8, TPR 2/3, FPR 1/5.
    // SPD 3/8 - 1/2 = -1/8; DI (3/8)/(1/2) = 3/4; EOD 2/3 - 1/2 = 1/6;
    // AOD ½[(1/5 - 1/2) + (2/3 - 1/2)] = ½(-3/10 + 1/6) = -1/15.
    close("spd", v(M::StatisticalParityDifference), -0.125);
    close("di", v(M::DisparateImpact), 0.75);
    close("eod", v(M::EqualOpportunityDifference), 1.0 / 6.0);
    close("aod", v(M::AverageOddsDifference), -1.0 / 15.0);
    let split = r.privileged.as_ref().unwrap();
    assert_eq!(
        (split.privileged.count(), split.unprivileged.count()),
        (4, 8)
    );
    assert_eq!(split.privileged_groups, vec![vec!["A".to_owned()]]);
    // Both equal_opportunity_difference figures exist, told apart by convention.
    let eod: Vec<_> = r
        .figures
        .iter()
        .filter(|f| f.metric == M::EqualOpportunityDifference)
        .collect();
    assert_eq!(eod.len(), 3);
}

#[test]
fn zero_denominators_follow_fairlearn_and_aif360_conventions() {
    // A and B as before, C: one row (0,1) (no positive label),
    // D: (1,0) (1,0) (no negative label, nothing predicted positive).
    let (mut labels, mut predictions, mut groups) = rows_ab();
    for (l, p, g) in [(false, true, "C"), (true, false, "D"), (true, false, "D")] {
        labels.push(l);
        predictions.push(p);
        groups.push(g);
    }
    let mut acc = FairnessAccumulator::new(["group"]).unwrap();
    acc.push_batch(&labels, &predictions, &groups).unwrap();
    let r = acc.finish(&FairnessConfig::default()).unwrap();
    // C: sel 1/1, TPR 0/0 → 0, FPR 1/1, FNR 0/0 → 0, TNR 0/1, precision 0/1, accuracy 0/1.
    check_rates(
        "C",
        r.group(&["C"]).unwrap(),
        [1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0],
    );
    // D: sel 0/2, TPR 0/2, FPR 0/0 → 0, FNR 2/2, TNR 0/0 → 0, precision 0/0 → 0, accuracy 0/2.
    check_rates(
        "D",
        r.group(&["D"]).unwrap(),
        [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
    );
    let text = r.warnings.join("\n");
    assert!(text.contains("group (C): no positive label"), "{text}");
    assert!(text.contains("group (D): no negative label"), "{text}");
    assert!(
        text.contains("group (D): nothing predicted positive"),
        "{text}"
    );
    // Selection rates 1/2, 3/8, 1, 0: difference 1 - 0 = 1, ratio 0/1 = 0.
    let v = |m| {
        r.value(m, Convention::FairlearnBetweenGroups, None)
            .unwrap()
    };
    close("dpd", v(M::DemographicParityDifference), 1.0);
    close("dpr", v(M::DemographicParityRatio), 0.0);

    // AIF360 with C privileged: TPR_p = 0/0 → NaN, so EOD and AOD are undefined.
    let c = FairnessConfig {
        privileged: vec![GroupSelector::exact(["C"])],
    };
    let r = acc.finish(&c).unwrap();
    let f = r
        .figure(M::EqualOpportunityDifference, Convention::Aif360, None)
        .unwrap();
    assert_eq!(f.value, None);
    assert!(
        f.note
            .as_deref()
            .unwrap()
            .contains("privileged side has no positive label")
    );
    assert_eq!(
        r.value(M::AverageOddsDifference, Convention::Aif360, None),
        None
    );
    // SPD: unprivileged sel (5 + 0)/14 ... A 2 + B 3 + D 0 = 5 of 14 rows; minus 1/1.
    close(
        "spd",
        r.value(M::StatisticalParityDifference, Convention::Aif360, None)
            .unwrap(),
        5.0 / 14.0 - 1.0,
    );
    // With D privileged: sel_p = 0, sel_u > 0 → AIF360's DI is inf.
    let d = FairnessConfig {
        privileged: vec![GroupSelector::exact(["D"])],
    };
    let r = acc.finish(&d).unwrap();
    let f = r
        .figure(M::DisparateImpact, Convention::Aif360, None)
        .unwrap();
    assert_eq!(f.value, None);
    assert!(f.note.as_deref().unwrap().contains("AIF360 returns inf"));
    assert!(
        r.warnings
            .iter()
            .any(|w| w.starts_with("disparate_impact (aif360)"))
    );
}

#[test]
fn several_sensitive_columns_group_by_tuple() {
    // (sex, race): (f, x): (1,1) (0,0); (f, y): (1,0); (m, x): (0,1) (1,1) (0,0).
    let labels = [true, false, true, false, true, false];
    let predictions = [true, false, false, true, true, false];
    let sex = ["f", "f", "f", "m", "m", "m"];
    let race = ["x", "x", "y", "x", "x", "x"];
    let mut acc = FairnessAccumulator::new(["sex", "race"]).unwrap();
    acc.push_batch_multi(&labels, &predictions, &[&sex, &race])
        .unwrap();
    let config = FairnessConfig {
        privileged: vec![GroupSelector::exact(["m", "x"])],
    };
    let r = acc.finish(&config).unwrap();
    assert_eq!(r.sensitive_columns, ["sex", "race"]);
    let keys: Vec<Vec<&str>> = r
        .by_group
        .iter()
        .map(|g| g.group.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(keys, [["f", "x"], ["f", "y"], ["m", "x"]]);
    // Selection rates: (f,x) 1/2, (f,y) 0/1, (m,x) 2/3 → difference 2/3, ratio 0.
    let v = |m| {
        r.value(m, Convention::FairlearnBetweenGroups, None)
            .unwrap()
    };
    close("dpd", v(M::DemographicParityDifference), 2.0 / 3.0);
    close("dpr", v(M::DemographicParityRatio), 0.0);
    // AIF360: privileged (m,x) sel 2/3, unprivileged (f,*) sel 1/3 → SPD -1/3, DI 1/2.
    close(
        "spd",
        r.value(M::StatisticalParityDifference, Convention::Aif360, None)
            .unwrap(),
        -1.0 / 3.0,
    );
    close(
        "di",
        r.value(M::DisparateImpact, Convention::Aif360, None)
            .unwrap(),
        0.5,
    );
    // A selector per column, None = any: (f, *) privileged → the two f groups.
    let partial = FairnessConfig {
        privileged: vec![GroupSelector {
            values: vec![Some("f".into()), None],
        }],
    };
    let r = acc.finish(&partial).unwrap();
    assert_eq!(r.privileged.as_ref().unwrap().privileged_groups.len(), 2);
    close(
        "spd",
        r.value(M::StatisticalParityDifference, Convention::Aif360, None)
            .unwrap(),
        1.0 / 3.0,
    );
}

#[test]
fn one_group_gives_fairlearn_figures_and_a_warning() {
    let mut acc = FairnessAccumulator::new(["g"]).unwrap();
    acc.push_batch(&[true, false, true], &[true, true, false], &["only"; 3])
        .unwrap();
    let r = acc.finish(&FairnessConfig::default()).unwrap();
    assert!(
        r.warnings[0].starts_with("only one group (only) in g"),
        "{:?}",
        r.warnings
    );
    for convention in [
        Convention::FairlearnBetweenGroups,
        Convention::FairlearnToOverall,
    ] {
        // sel 2/3, TPR 1/2, FPR 1/1: all differences 0, all ratios 1.
        for f in r.figures.iter().filter(|f| f.convention == convention) {
            let want = if f.metric.as_str().ends_with("difference") {
                0.0
            } else {
                1.0
            };
            assert_eq!(f.value, Some(want), "{f:?}");
        }
    }
    // Nothing selected: the ratios are 0/0, undefined as in Fairlearn (NaN), with a note.
    let mut acc = FairnessAccumulator::new(["g"]).unwrap();
    acc.push_batch(&[true, false], &[false, false], &["only"; 2])
        .unwrap();
    let r = acc.finish(&FairnessConfig::default()).unwrap();
    let dpr = r
        .figure(
            M::DemographicParityRatio,
            Convention::FairlearnBetweenGroups,
            None,
        )
        .unwrap();
    assert_eq!(dpr.value, None);
    assert!(
        dpr.note
            .as_deref()
            .unwrap()
            .contains("Fairlearn returns NaN")
    );
    assert_eq!(
        r.value(
            M::DemographicParityDifference,
            Convention::FairlearnToOverall,
            None
        ),
        Some(0.0)
    );
}

#[test]
fn report_serializes_with_conventions() {
    let config = FairnessConfig {
        privileged: vec![GroupSelector::exact(["A"])],
    };
    let json = serde_json::to_value(report_ab(&config)).unwrap();
    let figures = json["figures"].as_array().unwrap();
    assert_eq!(figures.len(), 20);
    assert_eq!(figures[0]["metric"], "demographic_parity_difference");
    assert_eq!(figures[0]["convention"], "fairlearn:between_groups");
    assert_eq!(figures[8]["convention"], "fairlearn:to_overall");
    assert_eq!(figures[2]["agg"], "worst_case");
    assert_eq!(figures[19]["convention"], "aif360");
    assert_eq!(json["by_group"][0]["group"][0], "A");
    assert_eq!(json["by_group"][1]["true_positive_rate"], 2.0 / 3.0);
    assert_eq!(json["by_group"][1]["confusion"]["true_negatives"], 4);
    let back: FairnessConfig =
        serde_json::from_str(r#"{"privileged":[{"values":["A"]}]}"#).unwrap();
    assert_eq!(back, config);
}

#[test]
fn label_binarisation_follows_sklearn() {
    // {0, 1} and {-1, 1}: 1 is positive; bool as is.
    assert_eq!(
        Labels::from_values(&[0, 1, 1], None).unwrap().as_slice(),
        [false, true, true]
    );
    assert_eq!(
        Labels::from_values(&[-1, 1], None).unwrap().as_slice(),
        [false, true]
    );
    assert_eq!(
        Labels::from_values(&[1.0, 0.0], None).unwrap().as_slice(),
        [true, false]
    );
    assert_eq!(
        Labels::from_values(&[true, false], None)
            .unwrap()
            .as_slice(),
        [true, false]
    );
    // A single value other than the positive label: all negative.
    assert_eq!(
        Labels::from_values(&[0, 0], None).unwrap().as_slice(),
        [false, false]
    );
    assert_eq!(
        Labels::from_values(&["no"], Some(&"yes"))
            .unwrap()
            .as_slice(),
        [false]
    );
    // Text with a named positive label.
    let l = Labels::from_values(&["yes", "no", "yes"], Some(&"yes")).unwrap();
    assert_eq!(l.as_slice(), [true, false, true]);
    // Scores: >= threshold is positive.
    let s = Labels::from_scores(&[0.2, 0.5, 0.7, f64::INFINITY], 0.5).unwrap();
    assert_eq!(s.as_slice(), [false, true, true, true]);
}

fn invalid<T: std::fmt::Debug>(r: verity_monitor::Result<T>) -> String {
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    e.to_string()
}

#[test]
fn non_binary_labels_are_refused_with_the_offending_values() {
    let m = invalid(Labels::from_values(&[0, 1, 2, 3, 4, 5, 6, 7], None));
    assert!(m.contains("offending values: 2, 3, 4, 5, …"), "{m}");
    let m = invalid(Labels::from_values(&[0, 1, 2], None));
    assert!(m.contains("offending values: 2") && !m.contains('…'), "{m}");
    let m = invalid(Labels::from_values(&[-1, 0, 1], None));
    assert!(m.contains("mix"), "{m}");
    let m = invalid(Labels::from_values(&["yes", "no"], None));
    assert!(m.contains("name the positive label"), "{m}");
    let m = invalid(Labels::from_values(&["a", "b", "c"], Some(&"a")));
    assert!(
        m.contains(r#"more than 2 distinct values ("a", "b", "c")"#),
        "{m}"
    );
    let m = invalid(Labels::from_values(&["a", "b"], Some(&"c")));
    assert!(m.contains(r#"positive label "c" is not among"#), "{m}");
    let m = invalid(Labels::from_values(&[0.0, f64::NAN, 1.0, f64::NAN], None));
    assert!(m.starts_with("2 of 4 labels are NaN"), "{m}");
    // Labels and predictions are checked together, as Fairlearn's TPR does.
    let m = invalid(Labels::pair_from_values(&[-1, 1], &[0, 1], None));
    assert!(m.contains("labels and predictions mix"), "{m}");
    invalid(Labels::pair_from_values(&[0, 1], &[0], None));
}

#[test]
fn nan_scores_are_refused_with_their_count() {
    let m = invalid(Labels::from_scores(&[0.1, f64::NAN, 0.9, f64::NAN], 0.5));
    assert!(m.starts_with("2 of 4 scores are NaN"), "{m}");
    invalid(Labels::from_scores(&[0.1], f64::NAN));
}

#[test]
fn bad_accumulator_input_is_refused() {
    invalid(FairnessAccumulator::new(Vec::<String>::new()));
    invalid(FairnessAccumulator::new(["a", "a"]));
    let mut acc = FairnessAccumulator::new(["g"]).unwrap();
    // No rows.
    assert!(invalid(acc.finish(&FairnessConfig::default())).starts_with("no rows"));
    // Length mismatch: nothing added.
    invalid(acc.push_batch(&[true, false], &[true], &["a", "b"]));
    assert_eq!(acc.row_count(), 0);
    // Wrong arity.
    invalid(acc.push_batch_multi(&[true], &[true], &[&["a"][..], &["b"][..]]));
    invalid(acc.push(true, true, &["a", "b"]));
    // Foreign group id.
    let mut other = FairnessAccumulator::new(["g"]).unwrap();
    other.intern(&["x"]).unwrap();
    let foreign = other.intern(&["y"]).unwrap();
    invalid(acc.push_coded(&[true], &[true], &[foreign]));
    // A two-column accumulator refuses push_batch and merging with a one-column one.
    let mut two = FairnessAccumulator::new(["g", "h"]).unwrap();
    invalid(two.push_batch(&[true], &[true], &["a"]));
    invalid(two.merge(&other));

    acc.push_batch(&[true, false], &[true, true], &["a", "b"])
        .unwrap();
    // Interned but never seen groups are not reported.
    acc.intern(&["ghost"]).unwrap();
    assert_eq!(
        acc.finish(&FairnessConfig::default())
            .unwrap()
            .by_group
            .len(),
        2
    );
    // Privileged group absent, covering every row, or of the wrong arity.
    let absent = FairnessConfig {
        privileged: vec![GroupSelector::exact(["z"])],
    };
    assert!(invalid(acc.finish(&absent)).contains("does not occur"));
    let everyone = FairnessConfig {
        privileged: vec![GroupSelector { values: vec![None] }],
    };
    assert!(invalid(acc.finish(&everyone)).contains("covers every row"));
    let arity = FairnessConfig {
        privileged: vec![GroupSelector::exact(["a", "b"])],
    };
    assert!(invalid(acc.finish(&arity)).contains("2 values but there are 1"));
}
