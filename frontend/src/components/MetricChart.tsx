// One metric of one or more runs, drawn from the server's downsampled buckets: a value line per
// run plus a shaded min–max band, so a spike inside a bucket is never lost. Dragging across the
// chart zooms in and fetches finer buckets for that step range; "Reset zoom" goes back. With the
// chart focused, + and - zoom, ←/→ move, 0 or Escape go back (lib/chart.ts keyZoom).
import { useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import type uPlot from "uplot";
import { get, path, query } from "../api/client";
import type { DownsampleResponse } from "../api/schema.gen";
import { alignSeries, bucketColumns, keyZoom, PALETTE, zoomRange, type StepRange } from "../lib/chart";
import { formatNumber } from "../lib/format";
import { useLoad } from "../lib/hooks";
import { Chart } from "./Chart";
import { ErrorBanner } from "./ui";

/** A run drawn on the chart; `color` keeps a run's colour the same across charts. */
export type ChartRun = { id: string; name: string; color?: string };

const MAX_BUCKETS = 1000;

/** The chart of `metric` for `runs` (each run must have logged the metric). */
export function MetricChart({
  runs,
  metric,
  height = 240,
  title,
}: {
  runs: ChartRun[];
  metric: string;
  height?: number;
  title?: ReactNode;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [buckets, setBuckets] = useState<number | null>(null);
  const [zoom, setZoom] = useState<{ start: number; end: number } | null>(null);
  const [hover, setHover] = useState<number | null>(null);
  // Bucket count follows the chart's width in pixels (one bucket per pixel, at most 1000).
  useLayoutEffect(() => {
    const width = box.current?.clientWidth || 640;
    setBuckets(Math.max(50, Math.min(MAX_BUCKETS, Math.round(width))));
  }, []);
  const runsKey = runs.map((r) => r.id).join(",");
  const loaded = useLoad(
    async () => {
      if (buckets === null) return null;
      return Promise.all(
        runs.map((r) =>
          get<DownsampleResponse>(
            path`/runs/${r.id}/metric-history/downsampled` +
              query({ key: metric, buckets, start_step: zoom?.start, end_step: zoom?.end }),
          ),
        ),
      );
    },
    [runsKey, metric, buckets, zoom?.start, zoom?.end],
  );
  const colors = runs.map((r, i) => r.color ?? PALETTE[i % PALETTE.length]);
  const colorKey = colors.join(",");
  const multi = runs.length > 1;

  // Columns: x, then per run its value, min and max.
  const data = useMemo<uPlot.AlignedData | null>(() => {
    if (!loaded.data) return null;
    const columns = loaded.data.map((answer) => bucketColumns(answer.buckets));
    if (columns.length === 1) {
      const c = columns[0];
      return [c.x, c.value, c.min, c.max];
    }
    const aligned = alignSeries(
      columns.flatMap((c) => [
        { x: c.x, y: c.value },
        { x: c.x, y: c.min },
        { x: c.x, y: c.max },
      ]),
    );
    return [aligned.x, ...aligned.ys];
  }, [loaded.data]);

  // The plot is rebuilt only when the runs or colours change (state setters are stable).
  const options = useMemo<Omit<uPlot.Options, "width">>(() => {
    const series: uPlot.Series[] = [{ label: "step" }];
    const bands: uPlot.Band[] = [];
    runs.forEach((r, i) => {
      const color = colors[i];
      const base = 1 + 3 * i;
      series.push(
        { label: r.name, stroke: color, width: 1.5, spanGaps: multi },
        // The band's edges are drawn thinly too, so a one-bucket spike is a visible line.
        { label: `${r.name} min`, stroke: `${color}80`, width: 1, points: { show: false }, spanGaps: multi },
        { label: `${r.name} max`, stroke: `${color}80`, width: 1, points: { show: false }, spanGaps: multi },
      );
      bands.push({ series: [base + 2, base + 1], fill: `${color}${multi ? "26" : "40"}` });
    });
    // A drag selection sets the x scale; that scale change (and only it) asks for finer buckets.
    const drag = { selecting: false };
    return {
      height,
      series,
      bands,
      legend: { show: false },
      scales: { x: { time: false } },
      axes: [{ label: "step", labelSize: 18, size: 36 }, { size: 60 }],
      cursor: { drag: { x: true, y: false, setScale: true } },
      hooks: {
        setSelect: [
          (u: uPlot) => {
            drag.selecting = u.select.width > 0;
          },
        ],
        setScale: [
          (u: uPlot, key: string) => {
            // The drawn value range, readable by tests and assistive tools.
            if (key === "y") u.root.dataset.yMax = String(u.scales.y.max ?? "");
            if (key !== "x" || !drag.selecting) return;
            drag.selecting = false;
            const range = zoomRange(u.scales.x.min ?? NaN, u.scales.x.max ?? NaN);
            if (range) setZoom(range);
          },
        ],
        setCursor: [(u: uPlot) => setHover(u.cursor.idx ?? null)],
      },
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [runsKey, colorKey, height, multi]);

  const steps = data ? (data[0] as number[]) : [];
  // The whole step range, as first drawn unzoomed: keyboard zoom stays inside it.
  const whole = useRef<StepRange | null>(null);
  if (!zoom && steps.length > 1) whole.current = { start: steps[0], end: steps[steps.length - 1] };
  const onKey = (event: KeyboardEvent<HTMLDivElement>) => {
    if (!whole.current) return;
    const next = keyZoom(event.key, zoom ?? whole.current, whole.current);
    if (next === null) return;
    event.preventDefault();
    setZoom(next === "reset" ? null : next);
  };
  const label = chartLabel(metric, runs, data);
  const points = loaded.data?.reduce((n, a) => n + a.buckets.reduce((m, b) => m + b.count, 0), 0);
  const at = hover !== null && hover < steps.length ? hover : null;
  return (
    <div className="chart-card metric-chart" data-testid={`metric-chart-${metric}`} ref={box}>
      <div className="chart-head">
        <h3>{title ?? metric}</h3>
        <div className="actions">
          {loaded.loading ? <span className="muted">Loading…</span> : null}
          {zoom ? (
            <>
              <span className="muted">
                steps {zoom.start}–{zoom.end}
              </span>
              <button type="button" onClick={() => setZoom(null)}>
                Reset zoom
              </button>
            </>
          ) : null}
        </div>
      </div>
      <ErrorBanner error={loaded.error} />
      {data ? (
        <div
          className="chart-focus"
          tabIndex={0}
          onKeyDown={onKey}
          aria-label={`${label}. Keys: + and - zoom, left and right arrows move, 0 shows every step.`}
          aria-keyshortcuts="+ - ArrowLeft ArrowRight 0 Escape"
        >
          <Chart options={options} data={data} label={label} />
        </div>
      ) : loaded.loading ? (
        <div className="chart-placeholder" style={{ height }} />
      ) : null}
      <ul className="chart-legend" aria-label={`Legend for ${metric}`}>
        {runs.map((r, i) => {
          const base = 1 + 3 * i;
          const value = at !== null && data ? (data[base] as Array<number | null>)[at] : null;
          const lo = at !== null && data ? (data[base + 1] as Array<number | null>)[at] : null;
          const hi = at !== null && data ? (data[base + 2] as Array<number | null>)[at] : null;
          return (
            <li key={r.id}>
              <span className="swatch" style={{ background: colors[i] }} aria-hidden="true" />
              {r.name}
              {at !== null && value !== null && value !== undefined ? (
                <span className="muted">
                  {" "}
                  {formatNumber(value)}
                  {lo !== hi && lo !== null && hi !== null ? ` (min ${formatNumber(lo)}, max ${formatNumber(hi)})` : ""}
                </span>
              ) : null}
            </li>
          );
        })}
        <li className="muted">
          {at !== null ? `step ${steps[at]} · ` : ""}
          line: value, band: min–max per bucket{points !== undefined ? ` · ${points} points` : ""} · drag (or +, −, ←, →) to zoom
        </li>
      </ul>
    </div>
  );
}

/** What the chart shows, for screen readers. */
function chartLabel(metric: string, runs: ChartRun[], data: uPlot.AlignedData | null): string {
  const who = runs.length === 1 ? `run ${runs[0].name}` : `${runs.length} runs (${runs.map((r) => r.name).join(", ")})`;
  if (!data || data[0].length === 0) return `Metric ${metric} of ${who}: no points`;
  const x = data[0] as number[];
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 1; i < data.length; i++) {
    for (const v of data[i] as Array<number | null>) {
      if (v !== null && v !== undefined) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  return `Metric ${metric} of ${who} over steps ${x[0]}–${x[x.length - 1]}, values from ${formatNumber(lo)} to ${formatNumber(hi)}`;
}
