// The result shapes of check reports as the server stores them (monitor/src: Profile,
// QualityOutcome, DriftOutcome, FairnessOutcome, EvaluationOutcome, the comparison result),
// checks that tell a result's shape before it is drawn, and the shaping the report views need.

// ---- Shapes -------------------------------------------------------------------------------

export type ColumnProfile = {
  name: string;
  data_type: string;
  kind: string;
  missing: number;
  missing_share: number;
  distinct: number;
  min: string | null;
  max: string | null;
  mean: number | null;
  std: number | null;
  quartiles: [number, number, number] | null;
  top: Array<[string, number]>;
};

export type ProfileResult = {
  rows: number;
  duplicated_rows: number;
  constant_columns: string[];
  empty_columns: string[];
  columns: ColumnProfile[];
};

export type Expectation = { type: string; column?: string; severity?: string } & Record<string, unknown>;

export type ExpectationResult = {
  expectation: Expectation;
  success: boolean;
  observed_value?: number | string;
  element_count?: number;
  missing_count?: number;
  unexpected_count?: number;
  unexpected_percent?: number;
  partial_unexpected_list?: string[];
  error?: string;
};

export type QualityResult = { status: string; summary: string; rows: number; results: ExpectationResult[] };

export type DriftHistogram =
  | { type: "bins"; edges: number[]; reference: number[]; current: number[] }
  | {
      type: "categories";
      labels: string[];
      reference: number[];
      current: number[];
      other: { categories: number; reference: number; current: number } | null;
    }
  | { type: "empty" }
  /** A masked numeric column's (its bin edges would be values of the column). */
  | { type: "masked" };

export type ColumnDrift = {
  column: string;
  kind: string;
  method: string | null;
  threshold: number | null;
  score: number | null;
  drifted: boolean;
  reference_rows: number;
  current_rows: number;
  reference_missing: number;
  current_missing: number;
  unique_values: number;
  note: string | null;
  histogram: DriftHistogram;
};

export type DriftResult = {
  status: string;
  summary: string;
  reference_rows: number;
  current_rows: number;
  drift: {
    number_of_columns: number;
    number_of_drifted_columns: number;
    share_of_drifted_columns: number;
    drift_share: number;
    dataset_drift: boolean;
    skipped_columns: string[];
    columns: ColumnDrift[];
  };
  unsupported_columns: Array<{ column: string; data_type: string }>;
};

export type Confusion = {
  true_positives: number;
  false_positives: number;
  true_negatives: number;
  false_negatives: number;
};

export type GroupMetrics = {
  group: string[];
  count: number;
  confusion: Confusion;
  selection_rate: number;
  true_positive_rate: number;
  false_positive_rate: number;
  false_negative_rate: number;
  true_negative_rate: number;
  precision: number;
  accuracy: number;
};

export type FairnessFigure = {
  metric: string;
  convention: string;
  agg: string | null;
  value: number | null;
  note: string | null;
};

export type FairnessReport = {
  sensitive_columns: string[];
  rows: number;
  overall: GroupMetrics;
  by_group: GroupMetrics[];
  figures: FairnessFigure[];
  privileged: {
    selectors: Array<{ values: Array<string | null> }>;
    privileged_groups: string[][];
    privileged: Confusion;
    unprivileged: Confusion;
  } | null;
  warnings: string[];
};

export type ConditionResult = {
  condition: { metric: string; convention?: string; agg?: string; min?: number; max?: number; severity?: string };
  value: number | null;
  passed: boolean;
};

export type FairnessResult = {
  status: string;
  summary: string;
  report: FairnessReport;
  conditions: ConditionResult[];
  rows_with_missing_sensitive: number;
};

export type CalibrationBin = {
  lower: number;
  upper: number;
  count: number;
  mean_predicted: number;
  fraction_positive: number;
};

export type Metrics =
  | ({ task: "binary" } & {
      rows: number;
      positives: number;
      threshold: number;
      accuracy: number;
      precision: number | null;
      recall: number | null;
      f1: number | null;
      roc_auc: number | null;
      pr_auc: number | null;
      log_loss: number;
      brier: number;
      confusion_matrix: number[][];
      calibration: CalibrationBin[];
    })
  | ({ task: "multiclass" } & {
      rows: number;
      classes: string[];
      accuracy: number;
      macro_precision: number;
      macro_recall: number;
      macro_f1: number;
      weighted_precision: number;
      weighted_recall: number;
      weighted_f1: number;
      per_class: Array<{ class: string; support: number; precision: number | null; recall: number | null; f1: number | null }>;
      roc_auc_ovr: number | null;
      pr_auc_ovr: number | null;
      log_loss: number;
      brier: number;
      confusion_matrix: number[][];
      calibration: CalibrationBin[];
    })
  | ({ task: "regression" } & {
      rows: number;
      mae: number;
      mse: number;
      rmse: number;
      r2: number | null;
      mean_residual: number;
      residual_quantiles: Array<{ q: number; value: number }>;
      max_error: number;
    });

export type EvaluationResult = {
  status: string;
  summary: string;
  rows: number;
  device: string;
  batch_size: number;
  overall: Metrics;
  by_group: Array<{ column: string; groups: Array<{ value: string; rows: number; metrics: Metrics }> }>;
  fairness: Array<{ column: string; status: string; report: FairnessReport; conditions: ConditionResult[] }>;
  rows_with_missing_sensitive: number;
};

export type FigureDifference = {
  metric: string;
  challenger: number | null;
  champion: number | null;
  difference: number | null;
  higher_is_better: boolean;
  better: string | null;
};

export type ComparisonResult = {
  challenger_report_id: number;
  champion_report_id: number;
  comparison: {
    task: string;
    primary_metric: string;
    verdict: string | null;
    overall: FigureDifference[];
    fairness: FigureDifference[];
  };
};

// ---- Telling shapes apart -------------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The reason stored in an `error` report (`{"error": "..."}`), if that is what `result` is. */
export function errorOf(result: unknown): string | null {
  return isObject(result) && typeof result.error === "string" ? result.error : null;
}

export function isProfile(r: unknown): r is ProfileResult {
  return isObject(r) && typeof r.rows === "number" && Array.isArray(r.columns) && Array.isArray(r.constant_columns);
}

export function isQuality(r: unknown): r is QualityResult {
  return isObject(r) && Array.isArray(r.results);
}

export function isDrift(r: unknown): r is DriftResult {
  return isObject(r) && isObject(r.drift) && Array.isArray(r.drift.columns);
}

export function isFairness(r: unknown): r is FairnessResult {
  return isObject(r) && isObject(r.report) && Array.isArray(r.report.by_group) && Array.isArray(r.conditions);
}

export function isEvaluation(r: unknown): r is EvaluationResult {
  return isObject(r) && isObject(r.overall) && typeof r.overall.task === "string";
}

export function isComparison(r: unknown): r is ComparisonResult {
  return isObject(r) && isObject(r.comparison) && Array.isArray(r.comparison.overall);
}

// ---- Shaping --------------------------------------------------------------------------------

/** A figure with 4 significant digits (integers whole; `—` when undefined). */
export function formatFigure(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-4 || magnitude >= 1e9)) return value.toExponential(3);
  return String(Number(value.toPrecision(4)));
}

/** A number for a crowded axis: 3 significant digits, thousands as `k`, millions as `M`. */
export function compactNumber(value: number): string {
  if (!Number.isFinite(value)) return formatFigure(value);
  const magnitude = Math.abs(value);
  const trim = (v: number) => String(Number(v.toPrecision(3)));
  if (magnitude >= 1e9) return value.toExponential(2);
  if (magnitude >= 1e6) return `${trim(value / 1e6)}M`;
  if (magnitude >= 1e4) return `${trim(value / 1e3)}k`;
  if (magnitude !== 0 && magnitude < 1e-3) return value.toExponential(1);
  return trim(value);
}

/** Drift methods whose score is a p-value (drift when below the threshold); the others are distances. */
const P_VALUE_METHODS = new Set(["ks", "chisquare", "z"]);

/** What a drift method's score is: `p-value` or `distance`. */
export function scoreKind(method: string | null | undefined): "p-value" | "distance" | null {
  if (!method) return null;
  return P_VALUE_METHODS.has(method) ? "p-value" : "distance";
}

/** One side of a drift histogram as counts and shares of that side. */
export type HistogramData = {
  kind: "bins" | "categories";
  /** One label per bar position: `[a, b)` for bins, the category for categories. */
  labels: string[];
  /** Tick positions and labels for the x axis (bin edges sit between bars). */
  ticks: Array<{ at: number; label: string }>;
  reference: number[];
  current: number[];
  /** Shares (0–100) of each side's total, what the bars show: sides of unequal size compare. */
  referenceShare: number[];
  currentShare: number[];
};

const shares = (counts: number[]): number[] => {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? (100 * c) / total : 0));
};

/** Up to `max` evenly spaced indices of 0..n-1, always with the first and last. */
export function thin(n: number, max: number): number[] {
  if (n <= 0) return [];
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const step = Math.ceil((n - 1) / (max - 1));
  const out: number[] = [];
  for (let i = 0; i < n - 1; i += step) out.push(i);
  if (out[out.length - 1] !== n - 1) out.push(n - 1);
  return out;
}

/**
 * A drift histogram as bar columns at positions 0..n-1, or null when neither side has a value.
 * Numerical bins are equal-width, so positions keep the scale; the axis is labelled with bin
 * edges between bars. Categories beyond those the server kept become one `other` bar.
 */
export function histogramData(histogram: DriftHistogram, maxTicks = 6): HistogramData | null {
  if (histogram.type === "bins") {
    const n = Math.min(histogram.reference.length, histogram.current.length, Math.max(histogram.edges.length - 1, 0));
    if (n === 0) return null;
    const edges = histogram.edges;
    const labels = Array.from({ length: n }, (_, i) =>
      `[${formatFigure(edges[i])}, ${formatFigure(edges[i + 1])}${i === n - 1 ? "]" : ")"}`,
    );
    const ticks = thin(n + 1, maxTicks).map((i) => ({ at: i - 0.5, label: compactNumber(edges[i]) }));
    const reference = histogram.reference.slice(0, n);
    const current = histogram.current.slice(0, n);
    return { kind: "bins", labels, ticks, reference, current, referenceShare: shares(reference), currentShare: shares(current) };
  }
  if (histogram.type === "categories") {
    const n = Math.min(histogram.labels.length, histogram.reference.length, histogram.current.length);
    const labels = histogram.labels.slice(0, n);
    const reference = histogram.reference.slice(0, n);
    const current = histogram.current.slice(0, n);
    if (histogram.other && histogram.other.categories > 0) {
      labels.push(`other (${histogram.other.categories})`);
      reference.push(histogram.other.reference);
      current.push(histogram.other.current);
    }
    if (labels.length === 0) return null;
    const ticks = labels.map((label, i) => ({ at: i, label }));
    return {
      kind: "categories",
      labels,
      ticks,
      reference,
      current,
      referenceShare: shares(reference),
      currentShare: shares(current),
    };
  }
  return null;
}

/** A fairness group as `gender=F, region=a` (the overall row has no group). */
export function groupLabel(group: string[], columns: string[]): string {
  if (group.length === 0) return "(overall)";
  return group.map((value, i) => (columns[i] ? `${columns[i]}=${value}` : value)).join(", ");
}

/** An expectation's options besides its type, column and severity, as `min_value=1, max_value=5`. */
export function expectationArgs(expectation: Expectation): string {
  const skip = new Set(["type", "column", "severity"]);
  return Object.entries(expectation)
    .filter(([key, value]) => !skip.has(key) && value !== undefined && value !== null)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(", ");
}

/** A condition's bound as `≥ 0.8`, `≤ 0.1` or `between 0.8 and 1.25`. */
export function boundLabel(condition: { min?: number; max?: number }): string {
  const { min, max } = condition;
  if (min !== undefined && min !== null && max !== undefined && max !== null) return `between ${min} and ${max}`;
  if (min !== undefined && min !== null) return `≥ ${min}`;
  if (max !== undefined && max !== null) return `≤ ${max}`;
  return "—";
}

/** The newest report of each kind (by creation time, then id), in the order kinds first appear. */
export function latestByKind<R extends { kind: string; created_at: number; id: number }>(reports: R[]): R[] {
  const best = new Map<string, R>();
  for (const report of reports) {
    const seen = best.get(report.kind);
    if (!seen || report.created_at > seen.created_at || (report.created_at === seen.created_at && report.id > seen.id)) {
      best.set(report.kind, report);
    }
  }
  return [...best.values()];
}

/** Confusion-matrix axis names: `0`/`1` for binary, the class names for multiclass. */
export function confusionLabels(metrics: Metrics): string[] {
  if (metrics.task === "multiclass") return metrics.classes;
  return ["0 (negative)", "1 (positive)"];
}
