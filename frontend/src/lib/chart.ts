// Shaping API answers into the column arrays uPlot draws.

/** One bucket of `GET /runs/{id}/metric-history/downsampled`. */
export type Bucket = {
  start_step: number;
  end_step: number;
  count: number;
  min: number | string;
  max: number | string;
  first: number | string;
  last: number | string;
};

/** A value the chart can place: finite numbers only ("NaN", "Infinity" become gaps). */
export function plottable(value: number | string | null | undefined): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  return null;
}

/**
 * The buckets as chart columns. Each bucket gives two x positions (its first and last step) so
 * the line follows `first` → `last`, and the `min`/`max` band spans the bucket: a spike inside
 * a bucket is always drawn, whatever the zoom.
 */
export function bucketColumns(buckets: Bucket[]): {
  x: number[];
  value: Array<number | null>;
  min: Array<number | null>;
  max: Array<number | null>;
} {
  const x: number[] = [];
  const value: Array<number | null> = [];
  const min: Array<number | null> = [];
  const max: Array<number | null> = [];
  const push = (step: number, v: number | string, lo: number | string, hi: number | string) => {
    // Steps repeat at bucket edges only when a bucket holds one step; keep the later value.
    if (x.length && x[x.length - 1] === step) {
      value[value.length - 1] = plottable(v);
      return;
    }
    x.push(step);
    value.push(plottable(v));
    min.push(plottable(lo));
    max.push(plottable(hi));
  };
  for (const b of buckets) {
    push(b.start_step, b.first, b.min, b.max);
    if (b.end_step !== b.start_step) push(b.end_step, b.last, b.min, b.max);
  }
  return { x, value, min, max };
}

/**
 * Several series on one x axis: the sorted union of their steps, each series with `null`
 * where it has no point (uPlot draws gaps, or joins them with `spanGaps`).
 */
export function alignSeries(
  series: Array<{ x: number[]; y: Array<number | null> }>,
): { x: number[]; ys: Array<Array<number | null>> } {
  const steps = new Set<number>();
  for (const s of series) for (const step of s.x) steps.add(step);
  const x = [...steps].sort((a, b) => a - b);
  const index = new Map(x.map((step, i) => [step, i]));
  const ys = series.map((s) => {
    const y: Array<number | null> = new Array(x.length).fill(null);
    s.x.forEach((step, i) => {
      y[index.get(step)!] = s.y[i];
    });
    return y;
  });
  return { x, ys };
}

/**
 * The step range to ask for after a zoom to [left, right] on the x axis: whole steps, widened
 * to include both ends, or null when the selection is empty.
 */
export function zoomRange(left: number, right: number): { start: number; end: number } | null {
  if (!Number.isFinite(left) || !Number.isFinite(right)) return null;
  const start = Math.floor(Math.min(left, right));
  const end = Math.ceil(Math.max(left, right));
  return end > start ? { start, end } : null;
}

/** Equal-width histogram bars as chart columns: x at each bin's left edge, heights as counts. */
export function histogramColumns(edges: number[], counts: number[]): { x: number[]; y: number[] } {
  const n = Math.min(counts.length, Math.max(edges.length - 1, 0));
  return { x: edges.slice(0, n), y: counts.slice(0, n) };
}

/** A palette that stays readable on white and tells up to 10 runs apart. */
export const PALETTE = [
  "#1d4ed8",
  "#c2410c",
  "#15803d",
  "#9333ea",
  "#b91c1c",
  "#0e7490",
  "#a16207",
  "#be185d",
  "#4d7c0f",
  "#475569",
];

/** A step range. */
export type StepRange = { start: number; end: number };

/**
 * The range a key asks for, from the range in view within the metric's whole range: `+`/`=`
 * halves it around its middle, `-` doubles it, ←/→ move it by a quarter, `0`/Escape go back to
 * everything (`"reset"`). Ranges stay whole steps inside `whole`; null for other keys or when
 * nothing would change.
 */
export function keyZoom(key: string, view: StepRange, whole: StepRange): StepRange | "reset" | null {
  if (key === "0" || key === "Escape") return "reset";
  const width = view.end - view.start;
  const middle = (view.start + view.end) / 2;
  let next: StepRange;
  switch (key) {
    case "+":
    case "=":
      if (width < 2) return null;
      next = { start: Math.floor(middle - width / 4), end: Math.ceil(middle + width / 4) };
      break;
    case "-":
      next = { start: Math.floor(middle - width), end: Math.ceil(middle + width) };
      break;
    case "ArrowLeft":
      next = { start: view.start - Math.max(1, Math.round(width / 4)), end: view.end - Math.max(1, Math.round(width / 4)) };
      break;
    case "ArrowRight":
      next = { start: view.start + Math.max(1, Math.round(width / 4)), end: view.end + Math.max(1, Math.round(width / 4)) };
      break;
    default:
      return null;
  }
  // Keep the width when a move meets an edge; clamp a zoom-out to the whole range.
  const span = Math.min(next.end - next.start, whole.end - whole.start);
  if (next.start < whole.start) next = { start: whole.start, end: whole.start + span };
  if (next.end > whole.end) next = { start: whole.end - span, end: whole.end };
  if (next.start <= whole.start && next.end >= whole.end) return "reset";
  if (next.start === view.start && next.end === view.end) return null;
  return next;
}
