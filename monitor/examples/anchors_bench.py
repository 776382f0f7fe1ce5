"""Times Evidently 0.7 and Fairlearn 0.15 on the files `check_bench` keeps, for the ratio
reported in docs/benchmarks.md:

    cargo run --release -p verity-monitor --example check_bench -- 1000000 /var/tmp/bench-1m
    python monitor/examples/anchors_bench.py /var/tmp/bench-1m

Evidently: DataDriftPreset over the same 20 columns (14 numeric, 5 categorical, 1 binary),
its own column-type inference and method choice; both Parquet files are read with pandas
first (timed apart).
Fairlearn: MetricFrame with selection rate, TPR, FPR, FNR, TNR, precision, accuracy and count
by `cat1`, plus demographic parity and equalized odds difference and ratio.
"""

import sys
import time

import pandas as pd

directory = sys.argv[1]
columns = [f"num{i}" for i in range(14)] + [f"cat{i}" for i in range(5)] + ["flag"]

t = time.perf_counter()
reference = pd.read_parquet(f"{directory}/reference")
current = pd.read_parquet(f"{directory}/current")
read_s = time.perf_counter() - t
print(f"pandas read of both files: {read_s:.2f} s ({len(current)} rows)")

from evidently import Report  # noqa: E402
from evidently.presets import DataDriftPreset  # noqa: E402

t = time.perf_counter()
snapshot = Report([DataDriftPreset()]).run(current[columns], reference[columns]).dict()
drift_s = time.perf_counter() - t
count = snapshot["metrics"][0]["value"]
print(f"evidently drift, 20 columns: {drift_s:.2f} s (drifted columns: {count})")

from fairlearn.metrics import (  # noqa: E402
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, precision_score  # noqa: E402

t = time.perf_counter()
y, p, s = current["label"], current["prediction"], current["cat1"]
frame = MetricFrame(
    metrics={
        "count": count,
        "selection_rate": selection_rate,
        "tpr": true_positive_rate,
        "fpr": false_positive_rate,
        "fnr": false_negative_rate,
        "tnr": true_negative_rate,
        "precision": lambda a, b: precision_score(a, b, zero_division=0),
        "accuracy": accuracy_score,
    },
    y_true=y,
    y_pred=p,
    sensitive_features=s,
)
_ = frame.by_group
aggregates = [
    demographic_parity_difference(y, p, sensitive_features=s),
    demographic_parity_ratio(y, p, sensitive_features=s),
    equalized_odds_difference(y, p, sensitive_features=s),
    equalized_odds_ratio(y, p, sensitive_features=s),
]
fair_s = time.perf_counter() - t
print(f"fairlearn, {len(frame.by_group)} groups: {fair_s:.2f} s (dp ratio {aggregates[1]:.6f})")
