"""Reference drift results from Evidently 0.7 and SciPy for verity-monitor's drift tests.

Builds a few datasets from a 64-bit LCG that the Rust tests reproduce bit for bit, runs
Evidently on every column (its default method choice, plus forced methods), and writes
`monitor/src/drift/reference_cases.rs` with the datasets' recipes and the expected method,
score and drift decision per column, and the dataset-level drifted-column count.

Rerun (from the repository root):

    python3 -m venv /tmp/drift-venv
    /tmp/drift-venv/bin/pip install numpy scipy 'pandas<3' 'evidently==0.7.*'
    /tmp/drift-venv/bin/python monitor/tests/reference/drift_reference.py

Evidently sums categorical shares over `list(set(...))`, whose order follows Python's string
hashing, so its own results move by about 1e-14 relative between runs; the script re-executes
itself with PYTHONHASHSEED=0 to make the generated file reproducible.

Evidently 0.7.23 does not import with pandas 3 (`infer_dtype_from_object` is gone), hence
`pandas<3`. The values in the repository were produced with evidently 0.7.23, numpy 2.4.6,
scipy 1.17.1, pandas 2.3.3 on Python 3.11.
"""

import math
import os
import sys
import warnings

if os.environ.get("PYTHONHASHSEED") != "0":
    os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, "PYTHONHASHSEED": "0"})

import numpy as np
import pandas as pd
import scipy
import evidently
from evidently import Report
from evidently.core.datasets import Dataset
from evidently.legacy.calculations.data_drift import get_one_column_drift
from evidently.legacy.calculations.stattests import get_stattest
from evidently.legacy.core import ColumnType
from evidently.legacy.metric_results import DatasetColumns, DatasetUtilityColumns
from evidently.legacy.options.data_drift import DataDriftOptions
from evidently.presets import DataDriftPreset

warnings.filterwarnings("ignore")

MASK = (1 << 64) - 1


class Lcg:
    """PCG's 64-bit LCG step; uniforms are the top 53 bits."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next_u64(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & MASK
        return self.state

    def uniform(self):
        return (self.next_u64() >> 11) * 2.0**-53

    def normal(self):
        s = 0.0
        for _ in range(12):
            s += self.uniform()
        return s - 6.0


def pick(cum, v):
    for i, c in enumerate(cum):
        if v < c:
            return i
    return len(cum) - 1


# Recipes: (kind, params). Seeds differ per side and column.
def normal(seed, shift=0.0, scale=1.0, missing=0.0, inf=0.0):
    return ("Normal", dict(seed=seed, shift=shift, scale=scale, missing=missing, inf=inf))


def ints(seed, k, squared=False, missing=0.0):
    return ("Ints", dict(seed=seed, k=k, squared=squared, missing=missing))


def choice(seed, labels, cum, missing=0.0):
    return ("Choice", dict(seed=seed, labels=labels, cum=cum, missing=missing))


def float_choice(seed, values, cum):
    return ("FloatChoice", dict(seed=seed, values=values, cum=cum))


def bools(seed, p):
    return ("Bools", dict(seed=seed, p=p))


def generate(recipe, n):
    kind, p = recipe
    rng = Lcg(p["seed"])
    out = []
    for i in range(n):
        if kind == "Normal":
            u = rng.uniform()
            if u < p["missing"]:
                out.append(float("nan"))
            elif u < p["missing"] + p["inf"]:
                out.append(float("inf") if i % 2 == 0 else float("-inf"))
            else:
                out.append(rng.normal() * p["scale"] + p["shift"])
        elif kind == "Ints":
            u = rng.uniform()
            if u < p["missing"]:
                out.append(None)
            else:
                v = rng.uniform()
                if p["squared"]:
                    v = v * v
                out.append(int(math.floor(v * p["k"])))
        elif kind == "Choice":
            u = rng.uniform()
            if u < p["missing"]:
                out.append(None)
            else:
                out.append(p["labels"][pick(p["cum"], rng.uniform())])
        elif kind == "FloatChoice":
            out.append(p["values"][pick(p["cum"], rng.uniform())])
        elif kind == "Bools":
            out.append(rng.uniform() < p["p"])
    if kind == "Normal" or kind == "FloatChoice":
        return pd.Series(out, dtype="float64")
    if kind == "Ints":
        if any(v is None for v in out):
            return pd.Series([np.nan if v is None else float(v) for v in out], dtype="float64")
        return pd.Series(out, dtype="int64")
    if kind == "Bools":
        return pd.Series(out, dtype="bool")
    return pd.Series(out, dtype="object")


LABELS = ["alpha", "beta", "gamma", "delta", "eps"]


def base_columns(s):
    """Column recipes shared by the small and large datasets; `s` offsets the seeds."""
    return {
        "num_shift": (normal(s + 1), normal(s + 2, shift=0.3)),
        "num_same": (normal(s + 3, shift=5.0, scale=2.0), normal(s + 4, shift=5.0, scale=2.0)),
        "num_missing": (
            normal(s + 5, missing=0.05, inf=0.03),
            normal(s + 6, shift=0.1, scale=1.3, missing=0.1, inf=0.02),
        ),
        "int_many": (ints(s + 7, 40), ints(s + 8, 40, squared=True)),
        "int_missing": (ints(s + 9, 30, missing=0.1), ints(s + 10, 30, missing=0.02)),
        "int_few": (ints(s + 11, 4), ints(s + 12, 4, squared=True)),
        "float_few": (
            float_choice(s + 13, [0.0, 1.5, 3.0, 4.5], [0.25, 0.5, 0.75, 1.0]),
            float_choice(s + 14, [0.0, 1.5, 3.0, 4.5], [0.3, 0.55, 0.8, 1.0]),
        ),
        "binary_float": (
            float_choice(s + 15, [0.0, 1.0], [0.7, 1.0]),
            float_choice(s + 16, [0.0, 1.0], [0.62, 1.0]),
        ),
        "cat": (
            choice(s + 17, LABELS, [0.3, 0.55, 0.75, 0.9, 1.0], missing=0.05),
            choice(s + 18, LABELS, [0.25, 0.5, 0.75, 0.88, 1.0], missing=0.1),
        ),
        "cat_bin": (choice(s + 19, ["no", "yes"], [0.6, 1.0]), choice(s + 20, ["no", "yes"], [0.5, 1.0])),
        "cat_new": (
            choice(s + 21, ["a", "b", "c"], [0.4, 0.7, 1.0]),
            choice(s + 22, ["a", "b", "c", "d"], [0.4, 0.7, 0.98, 1.0]),
        ),
        "flag": (bools(s + 23, 0.4), bools(s + 24, 0.47)),
        "const_same": (float_choice(s + 25, [2.5], [1.0]), float_choice(s + 26, [2.5], [1.0])),
        "const_diff": (float_choice(s + 27, [2.5], [1.0]), float_choice(s + 28, [3.5], [1.0])),
    }


DATASETS = [
    # (name, reference rows, current rows, columns, forced methods [(column, method, threshold)])
    (
        "small",
        200,
        150,
        base_columns(100),
        [
            ("num_shift", "psi", None),
            ("num_shift", "kl_div", None),
            ("num_shift", "hellinger", None),
            ("num_shift", "jensenshannon", None),
            ("num_shift", "wasserstein", None),
            ("num_shift", "ks", 0.5),
            ("num_missing", "psi", None),
            ("int_many", "psi", None),
            ("int_many", "hellinger", None),
            ("int_many", "jensenshannon", None),
            ("int_few", "psi", None),
            ("int_few", "hellinger", None),
            ("float_few", "psi", None),
            ("float_few", "hellinger", None),
            ("cat", "psi", None),
            ("cat", "kl_div", None),
            ("cat", "hellinger", None),
            ("cat", "jensenshannon", None),
            ("cat", "z", None),
            ("cat_new", "psi", None),
            ("cat_new", "kl_div", None),
            ("flag", "chisquare", None),
        ],
    ),
    (
        "equal",
        120,
        120,
        {
            "num_shift": (normal(201), normal(202, shift=0.25)),
            "num_same": (normal(203), normal(204)),
            "int_many": (ints(205, 25), ints(206, 25)),
        },
        [],
    ),
    (
        "large",
        5000,
        4000,
        base_columns(300),
        [
            ("num_shift", "psi", None),
            ("num_shift", "kl_div", None),
            ("num_shift", "hellinger", None),
            ("num_shift", "jensenshannon", None),
            ("num_shift", "ks", None),
            ("num_same", "psi", 0.01),
            ("num_missing", "kl_div", None),
            ("int_many", "psi", None),
            ("int_many", "kl_div", None),
            ("int_many", "hellinger", None),
            ("int_many", "jensenshannon", None),
            ("int_many", "ks", None),
            ("int_few", "chisquare", None),
            ("cat", "psi", None),
            ("cat", "kl_div", None),
            ("cat", "hellinger", None),
            ("cat", "chisquare", None),
            ("cat_bin", "z", None),
            ("binary_float", "psi", None),
        ],
    ),
    (
        "asymp",
        300,
        12000,
        {
            "shift_big": (normal(401), normal(402, shift=0.5)),
            "shift_mid": (normal(403), normal(404, shift=0.15)),
            "shift_small": (normal(405), normal(406, shift=0.03)),
            "same": (normal(407), normal(408)),
        },
        [],
    ),
    (
        "asymp_small",
        100,
        10500,
        {
            "shift_big": (normal(501), normal(502, shift=1.0)),
            "shift_mid": (normal(503), normal(504, shift=0.25)),
            "shift_small": (normal(505), normal(506, shift=0.05)),
            "same": (normal(507), normal(508)),
        },
        [],
    ),
]


def clean(series):
    return series.replace([-np.inf, np.inf], np.nan).dropna()


def value_drift(ref_df, cur_df, column, method, threshold):
    """What Evidently 0.7's ValueDrift computes (ValueDriftCalculation.calculate)."""
    column_type = Dataset.from_pandas(cur_df).column(column).type
    options = DataDriftOptions(all_features_stattest=method, all_features_threshold=threshold)
    drift = get_one_column_drift(
        current_data=cur_df,
        reference_data=ref_df,
        column_name=column,
        options=options,
        dataset_columns=DatasetColumns(
            utility_columns=DatasetUtilityColumns(date=None, id=None, target=None, prediction=None),
            target_type=None,
            task=None,
            num_feature_names=[column] if column_type == ColumnType.Numerical else [],
            cat_feature_names=[column] if column_type == ColumnType.Categorical else [],
            text_feature_names=[column] if column_type == ColumnType.Text else [],
            datetime_feature_names=[column] if column_type == ColumnType.Datetime else [],
            target_names=None,
        ),
        column_type=column_type,
        agg_data=True,
    )
    test = get_stattest(clean(ref_df[column]), clean(cur_df[column]), column_type, method)
    return column_type, test.name, float(drift.drift_score), bool(drift.drift_detected), drift.stattest_threshold


def rust_f64(x):
    r = repr(float(x))
    if r in ("inf", "-inf", "nan"):
        raise ValueError(f"non-finite value {r}")
    if "." not in r and "e" not in r:
        r += ".0"
    return r


def rust_recipe(recipe):
    kind, p = recipe
    if kind == "Normal":
        return (
            f"Recipe::Normal {{ seed: {p['seed']}, shift: {rust_f64(p['shift'])}, scale: {rust_f64(p['scale'])}, "
            f"missing: {rust_f64(p['missing'])}, inf: {rust_f64(p['inf'])} }}"
        )
    if kind == "Ints":
        return (
            f"Recipe::Ints {{ seed: {p['seed']}, k: {p['k']}, squared: {str(p['squared']).lower()}, "
            f"missing: {rust_f64(p['missing'])} }}"
        )
    if kind == "Choice":
        labels = ", ".join(f'"{x}"' for x in p["labels"])
        cum = ", ".join(rust_f64(c) for c in p["cum"])
        return f"Recipe::Choice {{ seed: {p['seed']}, labels: &[{labels}], cum: &[{cum}], missing: {rust_f64(p['missing'])} }}"
    if kind == "FloatChoice":
        values = ", ".join(rust_f64(v) for v in p["values"])
        cum = ", ".join(rust_f64(c) for c in p["cum"])
        return f"Recipe::FloatChoice {{ seed: {p['seed']}, values: &[{values}], cum: &[{cum}] }}"
    if kind == "Bools":
        return f"Recipe::Bools {{ seed: {p['seed']}, p: {rust_f64(p['p'])} }}"
    raise ValueError(kind)


def main():
    out = []
    out.append("//! GENERATED by `monitor/tests/reference/drift_reference.py`; do not edit by hand.")
    out.append(
        f"//! evidently {evidently.__version__}, scipy {scipy.__version__}, numpy {np.__version__}, "
        f"pandas {pd.__version__}, Python {sys.version.split()[0]}."
    )
    out.append("")
    out.append("use super::reference_tests::{ColumnSpec, DatasetSpec, Expected, Recipe};")
    out.append("")
    out.append("pub(super) const DATASETS: &[DatasetSpec] = &[")
    expected = []
    for name, n_ref, n_cur, columns, forced in DATASETS:
        ref_df = pd.DataFrame({c: generate(r, n_ref) for c, (r, _) in columns.items()})
        cur_df = pd.DataFrame({c: generate(r, n_cur) for c, (_, r) in columns.items()})
        preset = Report([DataDriftPreset()]).run(cur_df, ref_df).dict()
        count = preset["metrics"][0]["value"]
        by_column = {
            m["config"]["column"]: m["value"] for m in preset["metrics"][1:] if m["config"].get("column")
        }
        out.append(f'    DatasetSpec {{ name: "{name}", reference_rows: {n_ref}, current_rows: {n_cur}, columns: &[')
        for c, (r, k) in columns.items():
            out.append(f'        ColumnSpec {{ name: "{c}", reference: {rust_recipe(r)}, current: {rust_recipe(k)} }},')
        out.append(
            f"    ], drifted_columns: {int(count['count'])}, drifted_share: {rust_f64(count['share'])} }},"
        )
        for c in columns:
            kind, method, score, drifted, thr = value_drift(ref_df, cur_df, c, None, None)
            if by_column.get(c) is not None and not math.isclose(by_column[c], score, rel_tol=0, abs_tol=0):
                raise AssertionError(f"{name}.{c}: preset {by_column[c]} != ValueDrift {score}")
            expected.append((name, c, None, None, kind.value, method, score, drifted))
        for c, m, t in forced:
            kind, method, score, drifted, thr = value_drift(ref_df, cur_df, c, m, t)
            expected.append((name, c, m, t, kind.value, method, score, drifted))
    out.append("];")
    out.append("")
    out.append("pub(super) const EXPECTED: &[Expected] = &[")
    for name, c, forced, thr, kind, method, score, drifted in expected:
        forced_s = f'Some("{forced}")' if forced else "None"
        thr_s = f"Some({rust_f64(thr)})" if thr is not None else "None"
        out.append(
            f'    Expected {{ dataset: "{name}", column: "{c}", forced: {forced_s}, threshold: {thr_s}, '
            f'kind: "{kind}", method: "{method}", score: {rust_f64(score)}, drifted: {str(drifted).lower()} }},'
        )
    out.append("];")
    path = os.path.join(os.path.dirname(__file__), "..", "..", "src", "drift", "reference_cases.rs")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {len(expected)} cases to {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
