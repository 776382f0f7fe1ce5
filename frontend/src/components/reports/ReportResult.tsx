// A report's result drawn by its kind; an error report shows its reason and an unknown shape
// falls back to the JSON. The version page and the report page both use this.
import type { ReportResponse } from "../../api/schema.gen";
import { errorOf, isComparison, isDrift, isEvaluation, isFairness, isProfile, isQuality } from "../../lib/reports";
import { Json } from "../ui";
import { ComparisonView } from "./ComparisonView";
import { DriftView } from "./DriftView";
import { EvaluationView } from "./EvaluationView";
import { FairnessView } from "./FairnessView";
import { ProfileView } from "./ProfileView";
import { QualityView } from "./QualityView";

export function ReportResult({ report }: { report: ReportResponse }) {
  const drawn = <ReportBody report={report} />;
  if (!report.masked) return drawn;
  return (
    <>
      <p className="notice" data-testid="report-masked">
        Masked view: values of masked columns appear as pseudonyms, hidden columns are left out, and statistics that are
        values of a masked column are not shown.
      </p>
      {drawn}
    </>
  );
}

function ReportBody({ report }: { report: ReportResponse }) {
  const result: unknown = report.result;
  if (result === undefined || result === null) return <p className="empty">This report has no result.</p>;
  const error = errorOf(result);
  if (error !== null) {
    return (
      <div className="error" role="alert" data-testid="report-error">
        <strong>The {report.kind} check could not run</strong>
        <span className="message">{error}</span>
      </div>
    );
  }
  switch (report.kind) {
    case "profile":
      if (isProfile(result)) return <ProfileView result={result} />;
      break;
    case "quality":
      if (isQuality(result)) return <QualityView result={result} />;
      break;
    case "drift":
      if (isDrift(result)) return <DriftView result={result} />;
      break;
    case "fairness":
      if (isFairness(result)) return <FairnessView result={result} />;
      break;
    case "evaluation":
      if (isEvaluation(result)) return <EvaluationView result={result} />;
      break;
    case "comparison":
      if (isComparison(result)) return <ComparisonView project={report.project} result={result} />;
      break;
  }
  return (
    <>
      <p className="muted">No view for this result's shape; here it is as stored.</p>
      <Json value={result} />
    </>
  );
}
