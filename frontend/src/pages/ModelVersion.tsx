// One model version: where it came from, its files, tags and aliases, the evaluation and
// comparison reports about it, and a way into its lineage.
import { useState, type FormEvent } from "react";
import { api, get, getAll, path, query } from "../api/client";
import type { ModelVersionResponse, ReportResponse } from "../api/schema.gen";
import { Table } from "../components/Table";
import { Empty, ErrorBanner, Facts, Field, LoadState, PageHeader, Section, Status } from "../components/ui";
import { formatBytes, formatNumber, formatTime, shortHash } from "../lib/format";
import { useAction, useLoad } from "../lib/hooks";
import { lineagePath } from "../lib/lineage";
import { Link, to } from "../lib/router";
import { allows, useAccess } from "../lib/session";
import { ComplianceSection } from "../components/Compliance";
import { PromotionSection } from "../components/Promotion";

export function ModelVersion({ project, model, version }: { project: string; model: string; version: string }) {
  const base = path`/projects/${project}/models/${model}/versions/${version}`;
  const loaded = useLoad(() => get<ModelVersionResponse>(base), [base]);
  const access = useAccess(project);
  const v = loaded.data;
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/projects">Projects</Link> / <Link to={to("projects", project)}>{project}</Link> /{" "}
        <Link to={`${to("projects", project)}?tab=models`}>Models</Link> /{" "}
        <Link to={to("projects", project, "models", model)}>{model}</Link> / <span>v{version}</span>
      </nav>
      <LoadState loading={loaded.loading && !v} error={loaded.error} />
      {v ? (
        <>
          <PageHeader
            title={
              <>
                {model} v{v.version} <Status value={v.status} />
              </>
            }
            sub={v.description || "No description."}
          >
            <Link className="button" to={lineagePath("model_version", String(v.id))} data-testid="open-lineage">
              Lineage
            </Link>
          </PageHeader>
          {v.retired ? (
            <p className="notice" data-testid="retired">
              Retired by {v.retired.retired_by}, {formatTime(v.retired.retired_at)}: {v.retired.reason}. It can take no alias.
            </p>
          ) : null}
          <Section title="About">
            <Facts
              items={[
                ["Status", <Status key="status" value={v.status} />],
                [
                  "Source run",
                  v.source_run_id ? (
                    <Link key="run" to={to("runs", v.source_run_id)}>
                      <code>{v.source_run_id}</code>
                    </Link>
                  ) : (
                    "uploaded directly"
                  ),
                ],
                ["Source path", v.source_path ? <code key="path">{v.source_path}</code> : "—"],
                ["Created by", v.created_by],
                ["Created", formatTime(v.created_at)],
                ["Updated", formatTime(v.updated_at)],
                ["Lineage id", <Link key="lineage" to={lineagePath("model_version", String(v.id))}>{v.id}</Link>],
                [
                  "Aliases",
                  v.aliases.length ? (
                    <span key="aliases" className="chips">
                      {v.aliases.map((a) => (
                        <span key={a} className="chip">
                          {a}
                        </span>
                      ))}
                    </span>
                  ) : (
                    "none"
                  ),
                ],
              ]}
            />
            <h3>Tags</h3>
            {v.tags.length ? (
              <ul className="chips" aria-label="Tags">
                {v.tags.map((t) => (
                  <li key={t.key} className="chip">
                    {t.key} = {t.value}
                  </li>
                ))}
              </ul>
            ) : (
              <Empty>No tags.</Empty>
            )}
            {allows(access, "model_version.update") ? (
              <EditDescription base={base} description={v.description} saved={loaded.reload} />
            ) : null}
          </Section>
          <Section title={`Files (${v.files.length})`}>
            <Table
              caption={`Files of ${model} v${v.version}`}
              rows={v.files}
              rowKey={(f) => f.path}
              empty="No files."
              columns={[
                {
                  key: "path",
                  header: "Path",
                  cell: (f) => (
                    <a href={`/api/v1${base}/files/${f.path.split("/").map(encodeURIComponent).join("/")}`} download>
                      {f.path}
                    </a>
                  ),
                  sort: (f) => f.path,
                },
                { key: "size", header: "Size", className: "num", cell: (f) => formatBytes(f.byte_size), sort: (f) => f.byte_size },
                {
                  key: "hash",
                  header: "Content hash (SHA-256)",
                  cell: (f) => (
                    <code title={f.content_hash}>{shortHash(f.content_hash, 16)}</code>
                  ),
                },
                { key: "created", header: "Stored", cell: (f) => formatTime(f.created_at), sort: (f) => f.created_at },
              ]}
            />
          </Section>
          <PromotionSection
            project={project}
            model={model}
            version={v.version}
            retired={Boolean(v.retired)}
            mayReview={allows(access, "model_version.approve")}
            mayRetire={allows(access, "model_version.update")}
            onChange={loaded.reload}
          />
          <Reports project={project} model={model} id={v.id} />
          <ComplianceSection
            project={project}
            subject={{ kind: "model", name: model, version: v.version, retired: Boolean(v.retired) }}
            mayEdit={allows(access, "model_version.update")}
          />
        </>
      ) : null}
    </>
  );
}

function EditDescription({ base, description, saved }: { base: string; description: string; saved: () => void }) {
  const [text, setText] = useState(description);
  const { error, busy, run } = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await run(() => api<ModelVersionResponse>("PATCH", base, { description: text }))) saved();
  };
  return (
    <details className="panel edit-description">
      <summary>Edit description</summary>
      <form onSubmit={submit}>
        <Field label="Description">
          <textarea value={text} onChange={(e) => setText(e.target.value)} />
        </Field>
        <ErrorBanner error={error} />
        <button type="submit" className="primary" disabled={busy || text === description}>
          Save description
        </button>
      </form>
    </details>
  );
}

/** This version's role in a report: evaluated, or one side of a comparison. */
function role(r: ReportResponse, id: number): string {
  if (r.kind === "comparison") return r.model_version_id === id ? "challenger" : "champion";
  return "evaluated";
}

/** Evaluations and comparisons of this version (as the evaluated model, challenger or champion). */
function Reports({ project, model, id }: { project: string; model: string; id: number }) {
  const reports = useLoad(
    () => getAll<ReportResponse>(`${path`/projects/${project}/reports`}${query({ model })}`, 5000),
    [project, model],
  );
  const mine = (reports.data?.items ?? []).filter((r) => r.model_version_id === id || r.reference_model_version_id === id);
  const withFigures = mine.some((r) => r.result && Object.keys(r.result).length);
  return (
    <Section title="Evaluations and comparisons">
      <LoadState loading={reports.loading && !reports.data} error={reports.error} />
      {reports.data ? (
        <Table
          caption="Reports about this version"
          rows={mine}
          rowKey={(r) => String(r.id)}
          empty="No evaluation or comparison of this version yet."
          columns={[
            {
              key: "id",
              header: "Report",
              cell: (r) => <Link to={to("projects", project, "reports", r.id)}>#{r.id}</Link>,
              sort: (r) => r.id,
            },
            { key: "kind", header: "Kind", cell: (r) => r.kind, sort: (r) => r.kind },
            { key: "role", header: "This version", cell: (r) => role(r, id) },
            { key: "status", header: "Status", cell: (r) => <Status value={r.status} />, sort: (r) => r.status },
            {
              key: "dataset",
              header: "Dataset",
              cell: (r) => (
                <Link to={to("projects", project, "datasets", r.dataset)} title={`dataset version id ${r.dataset_version_id}`}>
                  {r.dataset}
                </Link>
              ),
              sort: (r) => r.dataset,
            },
            { key: "summary", header: "Summary", cell: (r) => <span title={r.summary}>{r.summary}</span> },
            ...(withFigures
              ? [{ key: "metrics", header: "Key metrics", cell: (r: ReportResponse) => keyMetrics(r.result) }]
              : []),
            { key: "created", header: "When", cell: (r) => formatTime(r.created_at), sort: (r) => r.created_at },
          ]}
        />
      ) : null}
      {reports.data?.truncated ? <p className="notice">Only the newest 5000 reports of this model were searched.</p> : null}
    </Section>
  );
}

/** The top-level numbers of a result, e.g. `accuracy 0.91 · auc 0.95`. */
function keyMetrics(result: Record<string, unknown> | null | undefined): string {
  if (!result) return "—";
  const metrics = (result.metrics as Record<string, unknown> | undefined) ?? result;
  const numbers = Object.entries(metrics).filter(([, value]) => typeof value === "number");
  return numbers.length ? numbers.slice(0, 4).map(([k, value]) => `${k} ${formatNumber(value as number)}`).join(" · ") : "—";
}
