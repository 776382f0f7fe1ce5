// A quality suite's results: one row per expectation with Great Expectations' fields.
import { formatNumber } from "../../lib/format";
import { expectationArgs, formatFigure, type ExpectationResult, type QualityResult } from "../../lib/reports";
import { Facts, Status } from "../ui";

export function QualityView({ result }: { result: QualityResult }) {
  const failed = result.results.filter((r) => !r.success).length;
  return (
    <div className="report-body">
      <Facts
        items={[
          ["Rows", formatNumber(result.rows)],
          ["Expectations", formatNumber(result.results.length)],
          ["Failed", formatNumber(failed)],
        ]}
      />
      <div className="table-box" data-testid="quality-results">
        <table>
          <caption className="visually-hidden">Quality expectations and their results</caption>
          <thead>
            <tr>
              <th scope="col">Result</th>
              <th scope="col">Expectation</th>
              <th scope="col">Options</th>
              <th scope="col" className="num">Observed</th>
              <th scope="col" className="num">Missing / elements</th>
              <th scope="col" className="num">Unexpected</th>
              <th scope="col">Unexpected samples / error</th>
            </tr>
          </thead>
          <tbody>
            {result.results.map((r, i) => (
              <ExpectationRow key={i} result={r} />
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function ExpectationRow({ result: r }: { result: ExpectationResult }) {
  const observed =
    r.observed_value === undefined ? "—" : typeof r.observed_value === "number" ? formatFigure(r.observed_value) : r.observed_value;
  const unexpected =
    r.unexpected_count === undefined
      ? "—"
      : `${formatNumber(r.unexpected_count)}${r.unexpected_percent !== undefined ? ` (${formatFigure(r.unexpected_percent)}%)` : ""}`;
  const samples = r.partial_unexpected_list ?? [];
  return (
    <tr>
      <td>
        <Status value={r.success ? "pass" : r.expectation.severity === "warn" ? "warn" : "fail"} />
        {r.expectation.severity === "warn" ? <span className="muted" title="severity warn: a failure only warns"> (warn)</span> : null}
      </td>
      <td>
        <code title={r.expectation.type}>{r.expectation.type.replace(/^expect_/, "")}</code>
        {r.expectation.column ? (
          <>
            {" "}
            <strong>{r.expectation.column}</strong>
          </>
        ) : null}
      </td>
      <td className="wrap">{expectationArgs(r.expectation) || "—"}</td>
      <td className="num">{observed}</td>
      <td className="num">
        {r.element_count === undefined
          ? "—"
          : `${r.missing_count === undefined ? "—" : formatNumber(r.missing_count)} / ${formatNumber(r.element_count)}`}
      </td>
      <td className="num">{unexpected}</td>
      <td className="wrap">
        {r.error ? <span className="fail-text">{r.error}</span> : samples.length ? samples.join(", ") : "—"}
      </td>
    </tr>
  );
}
