// A drift report: the dataset verdict, one row per column (method, score, threshold, drifted),
// and per column the reference and current distributions as grouped bars.
import { useMemo } from "react";
import uPlot from "uplot";
import { PALETTE } from "../../lib/chart";
import { formatNumber, formatPercent } from "../../lib/format";
import { formatFigure, histogramData, scoreKind, type ColumnDrift, type DriftResult, type HistogramData } from "../../lib/reports";
import { Chart } from "../Chart";
import { Table } from "../Table";
import { Empty, Facts } from "../ui";

const REFERENCE_COLOR = PALETTE[0];
const CURRENT_COLOR = PALETTE[1];

/** `yes`/`no` as a coloured word. */
export function YesNo({ value, bad = true }: { value: boolean; bad?: boolean }) {
  const tone = value === bad ? "status-fail" : "status-pass";
  return <span className={`status ${tone}`}>{value ? "yes" : "no"}</span>;
}

export function DriftView({ result }: { result: DriftResult }) {
  const d = result.drift;
  return (
    <div className="report-body" data-testid="drift-report">
      <Facts
        items={[
          ["Dataset drift", <YesNo key="Dataset drift" value={d.dataset_drift} />],
          [
            "Drifted columns",
            `${d.number_of_drifted_columns} of ${d.number_of_columns} (${formatPercent(d.share_of_drifted_columns)})`,
          ],
          ["Drift share threshold", formatPercent(d.drift_share)],
          ["Reference rows", formatNumber(result.reference_rows)],
          ["Current rows", formatNumber(result.current_rows)],
          ["Skipped columns", d.skipped_columns.join(", ") || "none"],
          [
            "Unsupported columns",
            result.unsupported_columns.length
              ? result.unsupported_columns.map((c) => `${c.column} (${c.data_type})`).join(", ")
              : "none",
          ],
        ]}
      />
      <Table<ColumnDrift>
        caption="Drift per column"
        rows={d.columns}
        rowKey={(c) => c.column}
        columns={[
          { key: "column", header: "Column", cell: (c) => <strong>{c.column}</strong>, sort: (c) => c.column },
          { key: "kind", header: "Kind", cell: (c) => c.kind, sort: (c) => c.kind },
          { key: "method", header: "Test", cell: (c) => (c.method ? <code>{c.method}</code> : "—"), sort: (c) => c.method },
          {
            key: "score",
            header: "Score",
            className: "num",
            cell: (c) => (
              <span title={scoreKind(c.method) ?? undefined}>
                {formatFigure(c.score)}
                {c.score !== null && scoreKind(c.method) ? <span className="muted"> {scoreKind(c.method)}</span> : null}
              </span>
            ),
            sort: (c) => c.score,
          },
          { key: "threshold", header: "Threshold", className: "num", cell: (c) => formatFigure(c.threshold), sort: (c) => c.threshold },
          { key: "drifted", header: "Drifted", cell: (c) => <YesNo value={c.drifted} />, sort: (c) => (c.drifted ? 1 : 0) },
          {
            key: "reference",
            header: "Reference n (missing)",
            className: "num",
            cell: (c) => `${formatNumber(c.reference_rows)} (${formatNumber(c.reference_missing)})`,
            sort: (c) => c.reference_rows,
          },
          {
            key: "current",
            header: "Current n (missing)",
            className: "num",
            cell: (c) => `${formatNumber(c.current_rows)} (${formatNumber(c.current_missing)})`,
            sort: (c) => c.current_rows,
          },
          { key: "unique", header: "Distinct", className: "num", cell: (c) => formatNumber(c.unique_values), sort: (c) => c.unique_values },
          { key: "note", header: "Note", cell: (c) => c.note ?? "" },
        ]}
      />
      <h3>Reference vs current distributions</h3>
      <p className="legend-note">
        Bars are each side's share of its non-missing values (<span className="swatch" style={{ background: REFERENCE_COLOR }} />{" "}
        reference, <span className="swatch" style={{ background: CURRENT_COLOR }} /> current); the legend gives counts under the
        cursor.
      </p>
      <div className="grid drift-grid">
        {d.columns.map((c) => (
          <DriftHistogram key={c.column} column={c} />
        ))}
      </div>
    </div>
  );
}

/** One column's histogram card. */
export function DriftHistogram({ column }: { column: ColumnDrift }) {
  const data = useMemo(() => histogramData(column.histogram), [column.histogram]);
  return (
    <div className="chart-card" data-testid={`drift-histogram-${column.column}`}>
      <h3>
        {column.column}{" "}
        <span className="muted">
          {column.kind}
          {column.method ? ` · ${column.method} ${formatFigure(column.score)}` : ""}
        </span>{" "}
        {column.drifted ? <span className="status status-fail">drifted</span> : null}
      </h3>
      {data ? (
        <HistogramChart column={column.column} data={data} />
      ) : column.histogram.type === "masked" ? (
        <Empty>Masked: the bins of a masked column are not shown.</Empty>
      ) : (
        <Empty>Neither side has a value.</Empty>
      )}
    </div>
  );
}

function HistogramChart({ column, data }: { column: string; data: HistogramData }) {
  const options = useMemo(() => histogramOptions(data), [data]);
  const aligned = useMemo<uPlot.AlignedData>(
    () => [data.labels.map((_, i) => i), data.referenceShare, data.currentShare],
    [data],
  );
  return (
    <>
      <Chart
        options={options}
        data={aligned}
        label={`Histogram of ${column}: reference and current share per ${data.kind === "bins" ? "bin" : "category"}`}
      />
      <details className="counts">
        <summary>Counts</summary>
        <table>
          <caption className="visually-hidden">Counts of {column} per {data.kind === "bins" ? "bin" : "category"}</caption>
          <thead>
            <tr>
              <th scope="col">{data.kind === "bins" ? "Bin" : "Category"}</th>
              <th scope="col" className="num">Reference</th>
              <th scope="col" className="num">Current</th>
            </tr>
          </thead>
          <tbody>
            {data.labels.map((label, i) => (
              <tr key={i}>
                <td>{label}</td>
                <td className="num">
                  {formatNumber(data.reference[i])} ({formatFigure(data.referenceShare[i])}%)
                </td>
                <td className="num">
                  {formatNumber(data.current[i])} ({formatFigure(data.currentShare[i])}%)
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </>
  );
}

/** Grouped bars at positions 0..n-1: reference to the left of each position, current to the right. */
function histogramOptions(data: HistogramData): Omit<uPlot.Options, "width"> {
  const n = data.labels.length;
  const bars = uPlot.paths.bars!;
  const categorical = data.kind === "categories";
  const longLabels = categorical && (n > 6 || data.labels.some((l) => l.length > 10));
  const side = (counts: number[], shares: number[]) => (_u: uPlot, _v: number | null, _s: number, idx: number | null) =>
    idx == null || idx < 0 || idx >= n ? "—" : `${formatNumber(counts[idx])} (${formatFigure(shares[idx])}%)`;
  return {
    height: longLabels ? 260 : 220,
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false }, points: { show: false } },
    scales: {
      x: { time: false, range: () => [-0.5, n - 0.5] },
      y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
    },
    series: [
      {
        label: categorical ? "Category" : "Bin",
        value: (_u, _v, _s, idx) => (idx == null || idx < 0 || idx >= n ? "—" : data.labels[idx]),
      },
      {
        label: "Reference",
        stroke: REFERENCE_COLOR,
        fill: `${REFERENCE_COLOR}cc`,
        width: 1,
        points: { show: false },
        paths: bars({ size: [0.42, Infinity, 1], align: -1 }),
        value: side(data.reference, data.referenceShare),
      },
      {
        label: "Current",
        stroke: CURRENT_COLOR,
        fill: `${CURRENT_COLOR}cc`,
        width: 1,
        points: { show: false },
        paths: bars({ size: [0.42, Infinity, 1], align: 1 }),
        value: side(data.current, data.currentShare),
      },
    ],
    axes: [
      {
        splits: () => data.ticks.map((t) => t.at),
        values: (_u, splits) =>
          splits.map((s) => {
            const tick = data.ticks.find((t) => t.at === s);
            if (!tick) return "";
            return tick.label.length > 16 ? `${tick.label.slice(0, 15)}…` : tick.label;
          }),
        rotate: longLabels ? -35 : 0,
        size: longLabels ? 70 : 40,
        grid: { show: false },
      },
      {
        label: "Share %",
        labelSize: 18,
        size: 48,
        values: (_u, splits) => splits.map((s) => `${formatFigure(s)}`),
      },
    ],
  };
}
