// One report of any kind: who ran what on which versions (and models), its configuration, and
// its result drawn by the same views as the dataset version page.
import type { ReactNode } from "react";
import { get, path } from "../api/client";
import type { ReportResponse } from "../api/schema.gen";
import { ReportResult } from "../components/reports/ReportResult";
import { VersionLink } from "../components/reports/VersionLink";
import { Facts, Json, LoadState, PageHeader, Section, Status } from "../components/ui";
import { formatDuration, formatTime } from "../lib/format";
import { useLoad } from "../lib/hooks";
import { Link, to } from "../lib/router";
import { allows, useAccess } from "../lib/session";

export function Report({ project, id }: { project: string; id: string }) {
  const loaded = useLoad(() => get<ReportResponse>(path`/projects/${project}/reports/${id}`), [project, id]);
  const access = useAccess(project);
  const r = loaded.data;
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/projects">Projects</Link> / <Link to={to("projects", project)}>{project}</Link> /{" "}
        <Link to={`${to("projects", project)}?tab=monitoring`}>Monitoring</Link> / <span>Report #{id}</span>
      </nav>
      <LoadState loading={loaded.loading && !r} error={loaded.error} />
      {r ? (
        <>
          <PageHeader
            title={
              <>
                {capitalise(r.kind)} report #{r.id} <Status value={r.status} />
              </>
            }
            sub={r.summary}
          >
            {allows(access, "lineage.read") ? (
              <Link className="button" to={`/lineage?kind=report&id=${r.id}`}>
                Lineage
              </Link>
            ) : null}
          </PageHeader>
          <Section title="Report">
            <Facts items={headerFacts(project, r)} />
          </Section>
          <Section title="Result">
            <ReportResult report={r} />
          </Section>
          <details className="panel">
            <summary>Configuration</summary>
            <Json value={r.config} />
          </details>
        </>
      ) : null}
    </>
  );
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function headerFacts(project: string, r: ReportResponse): Array<[string, ReactNode]> {
  const items: Array<[string, ReactNode]> = [
    ["Kind", r.kind],
    ["Status", <Status key="Status" value={r.status} />],
    ["Dataset", <Link key="Dataset" to={to("projects", project, "datasets", r.dataset)}>{r.dataset}</Link>],
    ["Version", <Link key="Version" to={to("projects", project, "datasets", r.dataset, "versions", r.version)}>v{r.version}</Link>],
  ];
  if (r.reference_version_id != null) items.push(["Reference", <VersionLink key="Reference" id={r.reference_version_id} />]);
  if (r.model) {
    items.push(["Model",
      <Link key="Model" to={to("projects", project, "models", r.model)}>{r.model}</Link>,
    ]);
    if (r.model_version != null) {
      items.push([
        r.kind === "comparison" ? "Challenger" : "Model version",
        <Link key="model-version" to={to("projects", project, "models", r.model, "versions", r.model_version)}>
          v{r.model_version}
        </Link>,
      ]);
    }
    const champion = (r.config as { reference_model_version?: unknown }).reference_model_version;
    if (r.kind === "comparison" && typeof champion === "number") {
      const alias = (r.config as { alias?: unknown }).alias;
      items.push([
        "Champion",
        <span key="champion">
          <Link to={to("projects", project, "models", r.model, "versions", champion)}>v{champion}</Link>
          {typeof alias === "string" ? <span className="muted"> (alias {alias})</span> : null}
        </span>,
      ]);
    }
  }
  if (r.output_version_id != null) items.push(["Predictions", <VersionLink key="Predictions" id={r.output_version_id} />]);
  items.push([
    "Monitor",
    r.monitor ? <Link to={to("projects", project, "monitors", r.monitor)}>{r.monitor}</Link> : "—",
  ]);
  if (r.job_id != null) items.push(["Job", `#${r.job_id}`]);
  items.push(
    ["Trigger", r.trigger],
    ["Created by", r.created_by],
    ["Created", formatTime(r.created_at)],
    ["Duration", formatDuration(r.duration_ms)],
  );
  return items;
}
