// Shaping runs for the experiment-tracking pages: which keys the loaded runs have, quick
// lookups for a big runs table, server order clauses for its columns, and the param diff of
// a comparison.
import type { RunResponse } from "../api/schema.gen";
import { errorIndex, identifier } from "./filter";

/** A metric, param or tag column of the runs table. */
export type KeyKind = "metrics" | "params" | "tags";

/** The keys the runs have, each kind sorted. */
export type RunKeys = Record<KeyKind, string[]>;

/** A run with its values indexed by key (built once per load, read by every cell). */
export type RunRow = {
  run: RunResponse;
  metrics: Map<string, number | string>;
  params: Map<string, string>;
  tags: Map<string, string>;
  /** End minus start in ms; null while the run has no end. */
  duration: number | null;
};

/** Indexes a run's values by key. */
export function runRow(run: RunResponse): RunRow {
  const metrics = new Map<string, number | string>();
  for (const m of run.metrics) metrics.set(m.key, m.value as number | string);
  return {
    run,
    metrics,
    params: new Map(run.params.map((p) => [p.key, p.value])),
    tags: new Map(run.tags.map((t) => [t.key, t.value])),
    duration: runDuration(run),
  };
}

/** How long a run took (end − start), or null while it has no end. */
export function runDuration(run: Pick<RunResponse, "start_time" | "end_time">): number | null {
  if (run.end_time === null || run.end_time === undefined) return null;
  return Math.max(0, run.end_time - run.start_time);
}

/** Every metric, param and tag key found in the runs (tags starting `mlflow.` last). */
export function discoverKeys(runs: RunResponse[]): RunKeys {
  const metrics = new Set<string>();
  const params = new Set<string>();
  const tags = new Set<string>();
  for (const run of runs) {
    for (const m of run.metrics) metrics.add(m.key);
    for (const p of run.params) params.add(p.key);
    for (const t of run.tags) tags.add(t.key);
  }
  const byName = (a: string, b: string) => a.localeCompare(b);
  const system = (k: string) => (k.startsWith("mlflow.") ? 1 : 0);
  return {
    metrics: [...metrics].sort(byName),
    params: [...params].sort(byName),
    tags: [...tags].sort((a, b) => system(a) - system(b) || byName(a, b)),
  };
}

/** The id of a key column, e.g. `metrics:accuracy`. */
export function columnId(kind: KeyKind, key: string): string {
  return `${kind}:${key}`;
}

/** A column id back into its kind and key (null for anything else). */
export function parseColumnId(id: string): { kind: KeyKind; key: string } | null {
  const at = id.indexOf(":");
  if (at < 0) return null;
  const kind = id.slice(0, at);
  if (kind !== "metrics" && kind !== "params" && kind !== "tags") return null;
  return { kind, key: id.slice(at + 1) };
}

/** The key columns shown before the user chooses: a few metrics, then a few params. */
export function defaultColumns(keys: RunKeys, metrics = 4, params = 3): string[] {
  return [
    ...keys.metrics.slice(0, metrics).map((k) => columnId("metrics", k)),
    ...keys.params.slice(0, params).map((k) => columnId("params", k)),
  ];
}

/**
 * The value a runs-table column sorts by: numbers for metrics, times and durations; params
 * that read as numbers sort as numbers; NaN and missing values sort last.
 */
export function sortValue(row: RunRow, column: string): number | string | null {
  switch (column) {
    case "name":
      return row.run.name;
    case "status":
      return row.run.status;
    case "start_time":
      return row.run.start_time;
    case "duration":
      return row.duration;
    case "created_by":
      return row.run.created_by;
  }
  const parsed = parseColumnId(column);
  if (!parsed) return null;
  const value = row[parsed.kind].get(parsed.key);
  if (value === undefined) return null;
  if (parsed.kind === "metrics") {
    if (typeof value === "number") return Number.isNaN(value) ? null : value;
    if (value === "Infinity") return Number.POSITIVE_INFINITY;
    if (value === "-Infinity") return Number.NEGATIVE_INFINITY;
    return null;
  }
  const text = String(value);
  const number = Number(text);
  return text.trim() !== "" && Number.isFinite(number) ? number : text;
}

/**
 * The server's `order_by` clause for a runs-table column, or null where the server cannot
 * order by it (duration).
 */
export function orderClause(column: string, descending: boolean): string | null {
  const attributes: Record<string, string> = {
    name: "run_name",
    status: "status",
    start_time: "start_time",
    created_by: "user_id",
  };
  const direction = descending ? " DESC" : " ASC";
  if (column in attributes) return `attributes.${attributes[column]}${direction}`;
  const parsed = parseColumnId(column);
  if (!parsed) return null;
  return identifier(parsed.kind, parsed.key) + direction;
}

/**
 * Where in the filter the server's 400 message points, or null when it points elsewhere (an
 * `order_by[i]` clause) or nowhere.
 */
export function filterErrorIndex(filter: string, message: string): number | null {
  if (!filter || /^order_by\[/.test(message)) return null;
  return errorIndex(filter, message);
}

/** The run ids of a comparison: unique, in the order given, blanks dropped. */
export function compareIds(ids: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of ids) {
    const id = raw.trim();
    if (id && !seen.has(id)) {
      seen.add(id);
      out.push(id);
    }
  }
  return out;
}

/** The fewest and most runs a comparison takes. */
export const COMPARE_MIN = 2;
export const COMPARE_MAX = 10;

/** One param across the compared runs: its value in each (undefined where not logged). */
export type ParamDiffRow = { key: string; values: Array<string | undefined>; differs: boolean };

/**
 * The params of the runs side by side: rows whose values differ (a run lacking the param counts
 * as different) come first, then the equal ones, each part sorted by key.
 */
export function paramDiff(runs: Array<Pick<RunResponse, "params">>): ParamDiffRow[] {
  const keys = new Set<string>();
  const maps = runs.map((run) => {
    const map = new Map<string, string>();
    for (const p of run.params) {
      map.set(p.key, p.value);
      keys.add(p.key);
    }
    return map;
  });
  const rows = [...keys].map((key) => {
    const values = maps.map((m) => m.get(key));
    const differs = values.some((v) => v !== values[0]);
    return { key, values, differs };
  });
  rows.sort((a, b) => Number(b.differs) - Number(a.differs) || a.key.localeCompare(b.key));
  return rows;
}

/** One metric across the compared runs: its latest value and step in each. */
export type MetricRow = {
  key: string;
  values: Array<{ value: number | string; step: number } | undefined>;
};

/** The latest value of every metric key any of the runs has, keys sorted. */
export function latestMetrics(runs: Array<Pick<RunResponse, "metrics">>): MetricRow[] {
  const keys = new Set<string>();
  const maps = runs.map((run) => {
    const map = new Map<string, { value: number | string; step: number }>();
    for (const m of run.metrics) {
      map.set(m.key, { value: m.value as number | string, step: m.step ?? 0 });
      keys.add(m.key);
    }
    return map;
  });
  return [...keys].sort((a, b) => a.localeCompare(b)).map((key) => ({ key, values: maps.map((m) => m.get(key)) }));
}
