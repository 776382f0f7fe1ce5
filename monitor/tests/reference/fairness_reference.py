#!/usr/bin/env python3
"""Reference values for verity-monitor's fairness metrics (monitor/tests/fairness_reference.rs).

Run:  python3 -m venv /tmp/fair-venv
      /tmp/fair-venv/bin/pip install fairlearn numpy pandas scikit-learn
      /tmp/fair-venv/bin/python monitor/tests/reference/fairness_reference.py \
          > monitor/tests/reference/fairness_values.rs

It prints Rust constants, kept in monitor/tests/reference/fairness_values.rs, which
monitor/tests/fairness_reference.rs includes.

Data: 10,000 rows from a 64-bit LCG (Knuth's MMIX constants) that the Rust test reimplements
bit for bit (`Lcg` in fairness_reference.rs):
  g1 in {a (50%), b (30%), c (20%)}, g2 in {x (60%), y (40%)} except that c always has x, so the
  combination (c, y) never occurs (Fairlearn's MetricFrame then shows a NaN row for it, which
  every aggregate skips);
  label = 1 with probability 40% / 30% / 50% for a / b / c;
  score = u + 0.3 * label + 0.1 * [g1 == a] + 0.05 * [g2 == y], u uniform on k / 1e6;
  prediction = score >= 0.7.

Fairlearn figures come from fairlearn.metrics itself (MetricFrame and the *_difference/ratio
functions). AIF360 is not installed (too heavy): its four metrics are computed here with pandas
from the published ClassificationMetric formulas (DatasetMetric.difference = unprivileged -
privileged, ratio = unprivileged / privileged; TPR = TP/P, FPR = FP/N, selection rate =
predicted positives / instances), with unprivileged = every row outside the privileged group.
"""

import warnings

import fairlearn
import numpy as np
import pandas as pd
import sklearn
import sklearn.metrics as skm
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)

warnings.simplefilter("ignore")

MASK = (1 << 64) - 1
N = 10_000


class Lcg:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & MASK
        return self.state >> 33


def generate():
    rng = Lcg(20240611)
    rows = []
    for _ in range(N):
        r = rng.next() % 100
        g1 = "a" if r < 50 else ("b" if r < 80 else "c")
        g2 = "x" if rng.next() % 100 < 60 else "y"
        if g1 == "c":
            g2 = "x"
        base = {"a": 400, "b": 300, "c": 500}[g1]
        label = 1 if rng.next() % 1000 < base else 0
        u = (rng.next() % 1_000_000) / 1_000_000.0
        score = u + 0.3 * label
        if g1 == "a":
            score = score + 0.1
        if g2 == "y":
            score = score + 0.05
        rows.append((g1, g2, label, score))
    df = pd.DataFrame(rows, columns=["g1", "g2", "label", "score"])
    df["pred"] = (df["score"] >= 0.7).astype(int)
    return df


BASE = {
    "count": count,
    "selection_rate": selection_rate,
    "true_positive_rate": true_positive_rate,
    "false_positive_rate": false_positive_rate,
    "false_negative_rate": false_negative_rate,
    "true_negative_rate": true_negative_rate,
    "precision": skm.precision_score,
    "accuracy": skm.accuracy_score,
}


def rust_f(x):
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "f64::NAN"
    return repr(float(x))


def aggregates(df, sf):
    y, p = df["label"], df["pred"]
    out = []
    for method in ["between_groups", "to_overall"]:
        kw = dict(sensitive_features=sf, method=method)
        out += [
            ("DemographicParityDifference", method, None, demographic_parity_difference(y, p, **kw)),
            ("DemographicParityRatio", method, None, demographic_parity_ratio(y, p, **kw)),
        ]
        for agg in ["worst_case", "mean"]:
            out += [
                ("EqualizedOddsDifference", method, agg, equalized_odds_difference(y, p, agg=agg, **kw)),
                ("EqualizedOddsRatio", method, agg, equalized_odds_ratio(y, p, agg=agg, **kw)),
            ]
        out += [
            ("EqualOpportunityDifference", method, None, equal_opportunity_difference(y, p, **kw)),
            ("EqualOpportunityRatio", method, None, equal_opportunity_ratio(y, p, **kw)),
        ]
    return out


def aif360(df, privileged_mask):
    def stats(d):
        tp = ((d.label == 1) & (d.pred == 1)).sum()
        fp = ((d.label == 0) & (d.pred == 1)).sum()
        pos = (d.label == 1).sum()
        neg = (d.label == 0).sum()
        with np.errstate(all="ignore"):
            return (
                np.float64(d.pred.sum()) / np.float64(len(d)),
                np.float64(tp) / np.float64(pos),
                np.float64(fp) / np.float64(neg),
            )

    sr_p, tpr_p, fpr_p = stats(df[privileged_mask])
    sr_u, tpr_u, fpr_u = stats(df[~privileged_mask])
    return [
        ("StatisticalParityDifference", sr_u - sr_p),
        ("DisparateImpact", sr_u / sr_p),
        ("EqualOpportunityDifference", tpr_u - tpr_p),
        ("AverageOddsDifference", 0.5 * ((fpr_u - fpr_p) + (tpr_u - tpr_p))),
    ]


def emit(name, df, cols, privileged_mask):
    sf = df[cols] if len(cols) > 1 else df[cols[0]]
    mf = MetricFrame(metrics=BASE, y_true=df["label"], y_pred=df["pred"], sensitive_features=sf)
    print(f"/// MetricFrame.by_group over {cols}: (key, count, sel, tpr, fpr, fnr, tnr, precision, accuracy).")
    print(f"/// Rows that Fairlearn shows as NaN (unobserved combinations) are left out.")
    print(f"pub const {name}_BY_GROUP: &[(&[&str], u64, f64, f64, f64, f64, f64, f64, f64)] = &[")
    for key, row in mf.by_group.iterrows():
        if np.isnan(row["count"]):
            continue
        key = key if isinstance(key, tuple) else (key,)
        keys = ", ".join(f'"{k}"' for k in key)
        vals = ", ".join(rust_f(row[m]) for m in list(BASE)[1:])
        print(f"    (&[{keys}], {int(row['count'])}, {vals}),")
    print("];")
    o = mf.overall
    print(f"/// MetricFrame.overall: (count, sel, tpr, fpr, fnr, tnr, precision, accuracy).")
    print(f"pub const {name}_OVERALL: (u64, f64, f64, f64, f64, f64, f64, f64) = ({int(o['count'])}, "
          + ", ".join(rust_f(o[m]) for m in list(BASE)[1:]) + ");")
    print(f"/// fairlearn.metrics aggregates: (metric, method, agg, value).")
    print(f"pub const {name}_FAIRLEARN: &[(&str, &str, Option<&str>, f64)] = &[")
    for metric, method, agg, v in aggregates(df, sf):
        a = f'Some("{agg}")' if agg else "None"
        print(f'    ("{metric}", "{method}", {a}, {rust_f(v)}),')
    print("];")
    print(f"/// AIF360 formulas (pandas), unprivileged = all rows outside the privileged group.")
    print(f"pub const {name}_AIF360: &[(&str, f64)] = &[")
    for metric, v in aif360(df, privileged_mask):
        print(f'    ("{metric}", {rust_f(v)}),')
    print("];")


EDGE_CASES = [
    # One group, nothing predicted positive: differences 0, every ratio 0/0 = NaN.
    ("single_group_no_selection", [0, 1, 1, 0], [0, 0, 0, 0], ["a"] * 4),
    # No true positive anywhere: TPR ratio 0/0 = NaN, so equalized_odds_ratio(worst_case) is
    # NaN (Python's min() keeps a leading NaN) while agg=mean skips it.
    ("tpr_ratio_undefined", [1, 1, 0, 0, 0, 0], [0, 0, 1, 0, 1, 1], ["a", "b", "a", "a", "b", "b"]),
    # No false positive anywhere: FPR ratio NaN; worst_case takes the TPR ratio (min(x, NaN) = x).
    ("fpr_ratio_undefined", [1, 1, 1, 1, 0, 0], [1, 0, 1, 1, 0, 0], ["a", "a", "b", "b", "a", "b"]),
    # Group b has no actual positive (TPR = FNR = 0 by sklearn's nan_to_num) and no predicted
    # positive (precision 0 by zero_division); group c has no actual negative (FPR = TNR = 0).
    ("zero_denominators", [1, 0, 1, 0, 0, 0, 1, 1], [1, 1, 0, 0, 0, 0, 1, 0],
     ["a", "a", "a", "a", "b", "b", "c", "c"]),
]


def emit_edge():
    print("/// Tiny edge cases: (name, labels, predictions, groups, by_group rows, aggregates).")
    print("/// by_group rows: (group, count, sel, tpr, fpr, fnr, tnr, precision, accuracy).")
    print("pub const EDGE: &[EdgeCase] = &[")
    for name, y, p, g in EDGE_CASES:
        df = pd.DataFrame({"label": y, "pred": p, "g": g})
        mf = MetricFrame(metrics=BASE, y_true=df["label"], y_pred=df["pred"], sensitive_features=df["g"])
        rows = []
        for key, row in mf.by_group.iterrows():
            vals = ", ".join(rust_f(row[m]) for m in list(BASE)[1:])
            rows.append(f'("{key}", {int(row["count"])}, {vals})')
        aggs = []
        for metric, method, agg, v in aggregates(df, df["g"]):
            a = f'Some("{agg}")' if agg else "None"
            aggs.append(f'("{metric}", "{method}", {a}, {rust_f(v)})')
        print(f'    EdgeCase {{ name: "{name}", labels: &{y}, predictions: &{p}, groups: &{str(g).replace(chr(39), chr(34))},')
        print("        by_group: &[" + ", ".join(rows) + "],")
        print("        fairlearn: &[")
        for a in aggs:
            print(f"            {a},")
        print("        ] },")
    print("];")


def main():
    df = generate()
    print(f"// Generated by monitor/tests/reference/fairness_reference.py with fairlearn "
          f"{fairlearn.__version__}, scikit-learn {sklearn.__version__}, pandas {pd.__version__}, "
          f"numpy {np.__version__}.")
    print(f"/// Generator check: (rows, positive labels, positive predictions, sum of scores).")
    print(f"pub const DATA_CHECK: (u64, u64, u64, f64) = ({len(df)}, {int(df.label.sum())}, "
          f"{int(df.pred.sum())}, {rust_f(float(np.sum(df.score.to_numpy())))});")
    emit("TWO", df, ["g1", "g2"], (df.g1 == "a") & (df.g2 == "x"))
    emit("ONE", df, ["g1"], df.g1 == "a")
    emit_edge()


if __name__ == "__main__":
    main()
