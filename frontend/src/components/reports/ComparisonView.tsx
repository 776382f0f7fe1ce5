// A champion/challenger comparison: the verdict on the primary figure and every figure side by
// side, with links to both evaluation reports.
import { Link, to } from "../../lib/router";
import { formatFigure, type ComparisonResult, type FigureDifference } from "../../lib/reports";
import { Facts } from "../ui";

export function ComparisonView({ project, result }: { project: string; result: ComparisonResult }) {
  const c = result.comparison;
  return (
    <div className="report-body">
      <Facts
        items={[
          ["Task", c.task],
          ["Primary metric", c.primary_metric],
          ["Verdict", <Better key="Verdict" value={c.verdict} />],
          ["Challenger's evaluation", <Link key="Challenger's evaluation" to={to("projects", project, "reports", result.challenger_report_id)}>report #{result.challenger_report_id}</Link>],
          ["Champion's evaluation", <Link key="Champion's evaluation" to={to("projects", project, "reports", result.champion_report_id)}>report #{result.champion_report_id}</Link>],
        ]}
      />
      <h3>Overall</h3>
      <Differences rows={c.overall} primary={c.primary_metric} caption="Overall figures, champion vs challenger" />
      {c.fairness.length ? (
        <>
          <h3>Fairness</h3>
          <Differences rows={c.fairness} primary={c.primary_metric} caption="Fairness figures, champion vs challenger" />
        </>
      ) : null}
    </div>
  );
}

function Better({ value }: { value: string | null }) {
  if (!value) return <span className="muted">undefined on a side</span>;
  const tone = value === "challenger" ? "status-pass" : value === "champion" ? "status-fail" : "";
  return <span className={`status ${tone}`}>{value === "tie" ? "tie" : `${value} better`}</span>;
}

function Differences({ rows, primary, caption }: { rows: FigureDifference[]; primary: string; caption: string }) {
  return (
    <div className="table-box" data-testid="comparison-table">
      <table>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col" className="num">Champion</th>
            <th scope="col" className="num">Challenger</th>
            <th scope="col" className="num">Difference</th>
            <th scope="col">Better when</th>
            <th scope="col">Better</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.metric} className={r.metric === primary ? "overall" : undefined}>
              <th scope="row">
                {r.metric}
                {r.metric === primary ? <span className="muted"> (primary)</span> : null}
              </th>
              <td className="num">{formatFigure(r.champion)}</td>
              <td className="num">{formatFigure(r.challenger)}</td>
              <td className="num">{r.difference !== null && r.difference > 0 ? "+" : ""}{formatFigure(r.difference)}</td>
              <td>{r.higher_is_better ? "higher" : "lower"}</td>
              <td>
                <Better value={r.better} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
