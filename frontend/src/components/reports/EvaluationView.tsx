// A model evaluation: headline metrics overall and per group, the confusion matrix, the
// reliability (calibration) diagram, and fairness per sensitive column.
import { useMemo } from "react";
import uPlot from "uplot";
import { PALETTE } from "../../lib/chart";
import { formatNumber } from "../../lib/format";
import { confusionLabels, formatFigure, type CalibrationBin, type EvaluationResult, type Metrics } from "../../lib/reports";
import { Chart } from "../Chart";
import { Facts, Status } from "../ui";
import { FairnessBody } from "./FairnessView";

/** The headline figures of each task, in display order. */
const HEADLINE: Record<Metrics["task"], Array<[string, string]>> = {
  binary: [
    ["accuracy", "Accuracy"],
    ["precision", "Precision"],
    ["recall", "Recall"],
    ["f1", "F1"],
    ["roc_auc", "ROC AUC"],
    ["pr_auc", "PR AUC"],
    ["log_loss", "Log loss"],
    ["brier", "Brier"],
  ],
  multiclass: [
    ["accuracy", "Accuracy"],
    ["macro_precision", "Macro precision"],
    ["macro_recall", "Macro recall"],
    ["macro_f1", "Macro F1"],
    ["weighted_f1", "Weighted F1"],
    ["roc_auc_ovr", "ROC AUC (OvR)"],
    ["pr_auc_ovr", "PR AUC (OvR)"],
    ["log_loss", "Log loss"],
    ["brier", "Brier"],
  ],
  regression: [
    ["mae", "MAE"],
    ["rmse", "RMSE"],
    ["mse", "MSE"],
    ["r2", "R²"],
    ["mean_residual", "Mean residual"],
    ["max_error", "Max error"],
  ],
};

const figure = (m: Metrics, key: string) => formatFigure((m as unknown as Record<string, number | null>)[key]);

export function EvaluationView({ result }: { result: EvaluationResult }) {
  const overall = result.overall;
  const headline = HEADLINE[overall.task] ?? [];
  const rows: Array<{ label: string; rows: number; metrics: Metrics }> = [
    { label: "(overall)", rows: result.rows, metrics: overall },
    ...result.by_group.flatMap((c) => c.groups.map((g) => ({ label: `${c.column}=${g.value}`, rows: g.rows, metrics: g.metrics }))),
  ];
  return (
    <div className="report-body">
      <Facts
        items={[
          ["Task", overall.task],
          ["Rows", formatNumber(result.rows)],
          ...(overall.task === "binary" ? [["Threshold", formatFigure(overall.threshold)] as [string, string]] : []),
          ...(overall.task === "binary" ? [["Positive labels", formatNumber(overall.positives)] as [string, string]] : []),
          ["Device", result.device],
          ["Batch size", formatNumber(result.batch_size)],
          ["Rows with a missing sensitive value", formatNumber(result.rows_with_missing_sensitive)],
        ]}
      />
      <h3>Metrics</h3>
      <div className="table-box" data-testid="evaluation-metrics">
        <table>
          <caption className="visually-hidden">Evaluation metrics overall and per group</caption>
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col" className="num">Rows</th>
              {headline.map(([key, label]) => (
                <th key={key} scope="col" className="num">
                  {label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i} className={i === 0 ? "overall" : undefined}>
                <th scope="row">{r.label}</th>
                <td className="num">{formatNumber(r.rows)}</td>
                {headline.map(([key]) => (
                  <td key={key} className="num">
                    {figure(r.metrics, key)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {overall.task === "multiclass" ? (
        <>
          <h3>Per class</h3>
          <div className="table-box">
            <table>
              <caption className="visually-hidden">Metrics per class</caption>
              <thead>
                <tr>
                  <th scope="col">Class</th>
                  <th scope="col" className="num">Support</th>
                  <th scope="col" className="num">Precision</th>
                  <th scope="col" className="num">Recall</th>
                  <th scope="col" className="num">F1</th>
                </tr>
              </thead>
              <tbody>
                {overall.per_class.map((c) => (
                  <tr key={c.class}>
                    <th scope="row">{c.class}</th>
                    <td className="num">{formatNumber(c.support)}</td>
                    <td className="num">{formatFigure(c.precision)}</td>
                    <td className="num">{formatFigure(c.recall)}</td>
                    <td className="num">{formatFigure(c.f1)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
      {overall.task === "regression" ? (
        <>
          <h3>Residual quantiles</h3>
          <Facts items={overall.residual_quantiles.map((q) => [`q${formatFigure(q.q)}`, formatFigure(q.value)])} />
        </>
      ) : null}
      {overall.task !== "regression" ? (
        <div className="grid top-aligned">
          <div className="chart-card">
            <h3>Confusion matrix</h3>
            <ConfusionMatrix matrix={overall.confusion_matrix} labels={confusionLabels(overall)} />
          </div>
          {overall.calibration.length ? (
            <div className="chart-card">
              <h3>Calibration</h3>
              <Calibration bins={overall.calibration} />
            </div>
          ) : null}
        </div>
      ) : null}
      {result.fairness.map((f) => (
        <section key={f.column} className="subsection" aria-label={`Fairness by ${f.column}`}>
          <h3>
            Fairness by {f.column} <Status value={f.status} />
          </h3>
          <FairnessBody report={f.report} conditions={f.conditions} />
        </section>
      ))}
    </div>
  );
}

/** `[label][prediction]` counts with both axes named. */
export function ConfusionMatrix({ matrix, labels }: { matrix: number[][]; labels: string[] }) {
  const max = Math.max(1, ...matrix.flat());
  return (
    <div className="table-box confusion" data-testid="confusion-matrix">
      <table>
        <caption className="visually-hidden">Confusion matrix: rows are labels, columns are predictions</caption>
        <thead>
          <tr>
            <th scope="col">label ↓ / predicted →</th>
            {labels.map((l) => (
              <th key={l} scope="col" className="num">
                {l}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {matrix.map((row, i) => (
            <tr key={i}>
              <th scope="row">{labels[i] ?? i}</th>
              {row.map((count, j) => (
                <td
                  key={j}
                  className={`num ${i === j ? "diagonal" : ""}`}
                  style={{ background: `rgba(29, 78, 216, ${(0.08 + 0.35 * (count / max)).toFixed(3)})` }}
                >
                  {formatNumber(count)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The reliability diagram: fraction positive against mean predicted probability per bin. */
function Calibration({ bins }: { bins: CalibrationBin[] }) {
  const sorted = useMemo(() => [...bins].sort((a, b) => a.mean_predicted - b.mean_predicted), [bins]);
  const data = useMemo<uPlot.AlignedData>(
    // The diagonal spans [0, 1]; the bins' points sit between its ends.
    () => [
      [0, ...sorted.map((b) => b.mean_predicted), 1],
      [null, ...sorted.map((b) => b.fraction_positive), null],
      [0, ...sorted.map((b) => b.mean_predicted), 1],
    ],
    [sorted],
  );
  const options = useMemo<Omit<uPlot.Options, "width">>(
    () => ({
      height: 240,
      scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1] } },
      series: [
        { label: "Mean predicted" , value: (_u, v) => formatFigure(v) },
        { label: "Fraction positive", stroke: PALETTE[0], width: 2, points: { show: true, size: 6 }, value: (_u, v) => formatFigure(v) },
        { label: "Perfectly calibrated", stroke: "#6b7280", dash: [4, 4], width: 1, points: { show: false } },
      ],
      axes: [{ label: "Mean predicted probability", labelSize: 18 }, { label: "Fraction positive", labelSize: 18, size: 48 }],
    }),
    [],
  );
  return (
    <>
      <Chart options={options} data={data} label="Calibration: fraction of positive labels against mean predicted probability per bin" />
      <details className="counts">
        <summary>Bins</summary>
        <table>
          <caption className="visually-hidden">Calibration bins</caption>
          <thead>
            <tr>
              <th scope="col">Bin</th>
              <th scope="col" className="num">Rows</th>
              <th scope="col" className="num">Mean predicted</th>
              <th scope="col" className="num">Fraction positive</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((b, i) => (
              <tr key={i}>
                <td>
                  [{formatFigure(b.lower)}, {formatFigure(b.upper)})
                </td>
                <td className="num">{formatNumber(b.count)}</td>
                <td className="num">{formatFigure(b.mean_predicted)}</td>
                <td className="num">{formatFigure(b.fraction_positive)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </>
  );
}
