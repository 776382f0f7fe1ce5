// Fairness of predictions across groups: the conditions' verdicts, the summary figures
// (demographic parity, equalized odds, disparate impact...) and per-group rates and counts.
import { formatNumber, formatPercent } from "../../lib/format";
import {
  boundLabel,
  formatFigure,
  groupLabel,
  type ConditionResult,
  type FairnessFigure,
  type FairnessReport,
  type FairnessResult,
  type GroupMetrics,
} from "../../lib/reports";
import { Empty, Facts, Status } from "../ui";

export function FairnessView({ result }: { result: FairnessResult }) {
  return (
    <div className="report-body">
      <Facts
        items={[
          ["Sensitive columns", result.report.sensitive_columns.join(", ")],
          ["Rows", formatNumber(result.report.rows)],
          ["Groups", formatNumber(result.report.by_group.length)],
          ["Rows with a missing sensitive value", formatNumber(result.rows_with_missing_sensitive)],
        ]}
      />
      <FairnessBody report={result.report} conditions={result.conditions} />
    </div>
  );
}

/** The conditions, figures and group tables of one fairness report (also used by evaluations). */
export function FairnessBody({ report, conditions }: { report: FairnessReport; conditions: ConditionResult[] }) {
  return (
    <>
      {report.warnings.length ? (
        <div className="notice" role="note">
          <strong>Warnings:</strong>
          <ul>
            {report.warnings.map((w, i) => (
              <li key={i}>{w}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <h3>Conditions</h3>
      <Conditions conditions={conditions} />
      <h3>Per group</h3>
      <GroupTable report={report} />
      <h3>Summary figures</h3>
      <div className="table-box">
        <table>
          <caption className="visually-hidden">Fairness summary figures</caption>
          <thead>
            <tr>
              <th scope="col">Metric</th>
              <th scope="col">Convention</th>
              <th scope="col">Aggregation</th>
              <th scope="col" className="num">Value</th>
              <th scope="col">Condition</th>
              <th scope="col">Note</th>
            </tr>
          </thead>
          <tbody>
            {report.figures.map((f, i) => (
              <tr key={i}>
                <td>{f.metric}</td>
                <td>
                  <code>{f.convention}</code>
                </td>
                <td>{f.agg ?? "—"}</td>
                <td className="num">{formatFigure(f.value)}</td>
                <td>
                  <FigureVerdict figure={f} conditions={conditions} />
                </td>
                <td className="wrap">{f.note ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {report.privileged ? (
        <>
          <h3>Privileged vs unprivileged (AIF360)</h3>
          <Facts
            items={[
              ["Privileged groups", report.privileged.privileged_groups.map((g) => groupLabel(g, report.sensitive_columns)).join("; ") || "none"],
              ["Privileged TP/FP/TN/FN", confusionText(report.privileged.privileged)],
              ["Unprivileged TP/FP/TN/FN", confusionText(report.privileged.unprivileged)],
            ]}
          />
        </>
      ) : null}
    </>
  );
}

/** The verdicts of the conditions set on this figure, if any. */
function FigureVerdict({ figure, conditions }: { figure: FairnessFigure; conditions: ConditionResult[] }) {
  const matching = conditions.filter(
    (c) =>
      c.condition.metric === figure.metric &&
      (c.condition.convention ?? "fairlearn:between_groups") === figure.convention &&
      (c.condition.agg ?? (figure.agg === null ? null : "worst_case")) === figure.agg,
  );
  if (matching.length === 0) return <span className="muted">—</span>;
  return (
    <>
      {matching.map((c, i) => (
        <span key={i} title={boundLabel(c.condition)}>
          <Status value={c.passed ? "pass" : c.condition.severity === "warn" ? "warn" : "fail"} /> {boundLabel(c.condition)}{" "}
        </span>
      ))}
    </>
  );
}

function confusionText(c: GroupMetrics["confusion"]): string {
  return [c.true_positives, c.false_positives, c.true_negatives, c.false_negatives].map((v) => formatNumber(v)).join(" / ");
}

function Conditions({ conditions }: { conditions: ConditionResult[] }) {
  if (conditions.length === 0) return <Empty>No conditions: the check is informational.</Empty>;
  return (
    <div className="table-box">
      <table>
        <caption className="visually-hidden">Fairness conditions and whether they held</caption>
        <thead>
          <tr>
            <th scope="col">Result</th>
            <th scope="col">Metric</th>
            <th scope="col">Convention</th>
            <th scope="col">Bound</th>
            <th scope="col">Severity</th>
            <th scope="col" className="num">Value</th>
          </tr>
        </thead>
        <tbody>
          {conditions.map((c, i) => (
            <tr key={i}>
              <td>
                <Status value={c.passed ? "pass" : c.condition.severity === "warn" ? "warn" : "fail"} />
              </td>
              <td>
                {c.condition.metric}
                {c.condition.agg ? ` (${c.condition.agg})` : ""}
              </td>
              <td>
                <code>{c.condition.convention ?? "default"}</code>
              </td>
              <td>{boundLabel(c.condition)}</td>
              <td>{c.condition.severity ?? "fail"}</td>
              <td className="num">{formatFigure(c.value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const RATES: Array<[keyof GroupMetrics, string]> = [
  ["selection_rate", "Selection rate"],
  ["true_positive_rate", "TPR"],
  ["false_positive_rate", "FPR"],
  ["false_negative_rate", "FNR"],
  ["true_negative_rate", "TNR"],
  ["precision", "Precision"],
  ["accuracy", "Accuracy"],
];

function GroupTable({ report }: { report: FairnessReport }) {
  const rows = [report.overall, ...report.by_group];
  return (
    <div className="table-box" data-testid="fairness-table">
      <table>
        <caption className="visually-hidden">Rates and confusion counts per group</caption>
        <thead>
          <tr>
            <th scope="col">Group</th>
            <th scope="col" className="num">Rows</th>
            {RATES.map(([key, label]) => (
              <th scope="col" className="num" key={key}>
                {label}
              </th>
            ))}
            <th scope="col" className="num">TP</th>
            <th scope="col" className="num">FP</th>
            <th scope="col" className="num">TN</th>
            <th scope="col" className="num">FN</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((g, i) => (
            <tr key={i} className={i === 0 ? "overall" : undefined}>
              <th scope="row">{groupLabel(g.group, report.sensitive_columns)}</th>
              <td className="num">{formatNumber(g.count)}</td>
              {RATES.map(([key]) => (
                <td className="num" key={key}>
                  {formatPercent(g[key] as number)}
                </td>
              ))}
              <td className="num">{formatNumber(g.confusion.true_positives)}</td>
              <td className="num">{formatNumber(g.confusion.false_positives)}</td>
              <td className="num">{formatNumber(g.confusion.true_negatives)}</td>
              <td className="num">{formatNumber(g.confusion.false_negatives)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
