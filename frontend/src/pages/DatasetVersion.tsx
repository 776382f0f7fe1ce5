// One dataset version: its facts and schema, a download where the caller may read the rows,
// the newest report of each kind on it (profile, quality, drift with histograms, fairness...),
// every report on it, and running a profile or drift check where allowed.
import { useState, type FormEvent } from "react";
import { api, get, getAll, path, query } from "../api/client";
import type { DatasetResponse, DatasetVersionResponse, MaskingResponse, ReportResponse } from "../api/schema.gen";
import { ReportResult } from "../components/reports/ReportResult";
import { VersionLink } from "../components/reports/VersionLink";
import { Sensitivity } from "../components/Sensitivity";
import { ReportTable } from "../components/reports/ReportTable";
import { Table } from "../components/Table";
import { Empty, ErrorBanner, Facts, Field, LoadState, PageHeader, Section, Status } from "../components/ui";
import { clearanceReaches } from "../lib/clearance";
import { formatBytes, formatDuration, formatNumber, formatTime } from "../lib/format";
import { useAction, useLoad } from "../lib/hooks";
import { latestByKind } from "../lib/reports";
import { Link, to } from "../lib/router";
import { DpQuestion } from "../components/Privacy";
import { ComplianceSection } from "../components/Compliance";
import { allows, useAccess, useSession } from "../lib/session";

type SchemaField = { name: string; data_type: string; nullable?: boolean };

/** The order report kinds are shown in, and their section titles. */
const KINDS: Array<[string, string]> = [
  ["profile", "Profile"],
  ["quality", "Quality"],
  ["drift", "Drift"],
  ["fairness", "Fairness"],
  ["evaluation", "Evaluation"],
  ["comparison", "Comparison"],
];

function fieldsOf(schema: unknown): SchemaField[] | null {
  const fields = (schema as { fields?: unknown } | null)?.fields;
  return Array.isArray(fields) ? (fields as SchemaField[]) : null;
}

export function DatasetVersion({ project, dataset, version }: { project: string; dataset: string; version: string }) {
  const { me } = useSession();
  const access = useAccess(project);
  const ds = useLoad(() => get<DatasetResponse>(path`/projects/${project}/datasets/${dataset}`), [project, dataset]);
  const loaded = useLoad(
    () => get<DatasetVersionResponse>(path`/projects/${project}/datasets/${dataset}/versions/${version}`),
    [project, dataset, version],
  );
  const v = loaded.data;
  const readable = Boolean(ds.data) && allows(access, "dataset.read_data") && clearanceReaches(me.clearance, ds.data?.sensitivity);
  const masking = useLoad(() => get<MaskingResponse>(path`/projects/${project}/datasets/${dataset}/masking`), [project, dataset]);
  // Below the sensitivity, a masked copy where the owner has masked or hidden columns.
  const maskedView = Boolean(ds.data) && !readable && allows(access, "dataset.read_data") && (masking.data?.columns.length ?? 0) > 0;
  const content = `/api/v1${path`/projects/${project}/datasets/${dataset}/versions/${version}/content`}`;
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/projects">Projects</Link> / <Link to={to("projects", project)}>{project}</Link> /{" "}
        <Link to={`${to("projects", project)}?tab=datasets`}>Datasets</Link> /{" "}
        <Link to={to("projects", project, "datasets", dataset)}>{dataset}</Link> / <span>v{version}</span>
      </nav>
      <LoadState loading={loaded.loading && !v} error={loaded.error} />
      {ds.error ? <ErrorBanner error={ds.error} /> : null}
      {v ? (
        <>
          <PageHeader title={`${dataset} v${v.version}`} sub={v.description || "No description."}>
            {readable ? (
              <a className="button primary" href={content} download data-testid="download-version">
                Download ({v.format}, {formatBytes(v.byte_size)})
              </a>
            ) : null}
            {maskedView ? (
              <a className="button primary" href={content} download data-testid="download-masked">
                Download masked copy ({v.format})
              </a>
            ) : null}
            {allows(access, "lineage.read") ? (
              <Link className="button" to={`/lineage?kind=dataset_version&id=${v.id}`}>
                Lineage
              </Link>
            ) : null}
          </PageHeader>
          <Section title="Version">
            <Facts
              items={[
                ["Content hash (SHA-256)", <code key="Content hash (SHA-256)" className="hash">{v.content_hash}</code>],
                ["Rows", formatNumber(v.row_count)],
                ["Size", formatBytes(v.byte_size)],
                ["Format", v.format],
                ["Source", v.source_uri ? <code>{v.source_uri}</code> : "uploaded"],
                ["Sensitivity", ds.data ? <Sensitivity value={ds.data.sensitivity} /> : "…"],
                ["Derived from", v.derived_from_id == null ? "—" : <VersionLink id={v.derived_from_id} />],
                ["Created by", v.created_by],
                ["Created", formatTime(v.created_at)],
                ["Id", String(v.id)],
              ]}
            />
            {!readable && ds.data && maskedView ? (
              <p className="notice" data-testid="masked-view">
                You see the masked view (clearance {me.clearance}, dataset {ds.data.sensitivity}): the columns{" "}
                {masking.data?.columns.map((c) => `${c.column} (${c.mode})`).join(", ")} appear as pseudonyms or not at all, in the
                download and in reports.
              </p>
            ) : null}
            {!readable && ds.data && !maskedView ? (
              <p className="muted">
                Downloading the rows needs <code>dataset.read_data</code> and clearance {ds.data.sensitivity} (yours:{" "}
                {me.clearance}).
              </p>
            ) : null}
          </Section>
          <SchemaSection project={project} dataset={dataset} version={v} />
          {allows(access, "dataset.query_dp") ? (
            <DpQuestion
              project={project}
              dataset={dataset}
              version={v.version}
              columns={(fieldsOf(v.schema) ?? []).map((f) => f.name)}
            />
          ) : null}
          <Reports project={project} dataset={dataset} version={v} mayRun={readable && allows(access, "check.run")} />
          <ComplianceSection
            project={project}
            subject={{
              kind: "dataset",
              name: dataset,
              version: v.version,
              // Confidential and above (an unknown level too): datasheets carry DP figures only.
              sensitive: !clearanceReaches("internal", ds.data?.sensitivity),
            }}
            mayEdit={allows(access, "dataset.update")}
          />
        </>
      ) : null}
    </>
  );
}

function SchemaSection({ project, dataset, version }: { project: string; dataset: string; version: DatasetVersionResponse }) {
  const inline = fieldsOf(version.schema);
  const fetched = useLoad(
    () =>
      inline
        ? Promise.resolve(inline)
        : get<unknown>(path`/projects/${project}/datasets/${dataset}/versions/${version.version}/schema`).then(fieldsOf),
    [project, dataset, version.id],
  );
  const fields = fetched.data;
  return (
    <Section title="Schema">
      <LoadState loading={fetched.loading && !fields} error={fetched.error} />
      {fields === null ? <Empty>The stored schema has no field list.</Empty> : null}
      {fields ? (
        <div data-testid="schema-table">
          <Table<SchemaField>
            caption="Schema"
            rows={fields}
            rowKey={(f) => f.name}
            columns={[
              { key: "i", header: "#", className: "num", cell: (f) => fields.indexOf(f) + 1, sort: (f) => fields.indexOf(f) },
              { key: "name", header: "Column", cell: (f) => <strong>{f.name}</strong>, sort: (f) => f.name },
              { key: "type", header: "Type", cell: (f) => <code>{String(f.data_type)}</code>, sort: (f) => String(f.data_type) },
              { key: "nullable", header: "Nullable", cell: (f) => (f.nullable === undefined ? "—" : f.nullable ? "yes" : "no") },
            ]}
          />
        </div>
      ) : null}
    </Section>
  );
}

function Reports({
  project,
  dataset,
  version,
  mayRun,
}: {
  project: string;
  dataset: string;
  version: DatasetVersionResponse;
  mayRun: boolean;
}) {
  const list = useLoad(
    () => getAll<ReportResponse>(`${path`/projects/${project}/reports`}${query({ dataset })}`, 5000),
    [project, dataset],
  );
  const mine = (list.data?.items ?? []).filter((r) => r.dataset_version_id === version.id);
  const latest = latestByKind(mine);
  const ordered = [
    ...KINDS.map(([kind, title]) => [latest.find((r) => r.kind === kind), title] as const),
    ...latest.filter((r) => !KINDS.some(([k]) => k === r.kind)).map((r) => [r, r.kind] as const),
  ].filter((pair): pair is readonly [ReportResponse, string] => Boolean(pair[0]));
  return (
    <>
      {mayRun ? <RunCheck project={project} dataset={dataset} version={version} onDone={list.reload} /> : null}
      <LoadState loading={list.loading && !list.data} error={list.error} />
      {list.data && mine.length === 0 ? (
        <Section title="Reports">
          <Empty>No check has judged this version yet.</Empty>
        </Section>
      ) : null}
      {ordered.map(([report, title]) => (
        <KindSection key={report.id} project={project} summary={report} title={title} />
      ))}
      {mine.length ? (
        <Section title="All reports on this version">
          {list.data?.truncated ? <p className="notice">Only the newest reports of this dataset were read.</p> : null}
          <ReportTable project={project} reports={mine} />
        </Section>
      ) : null}
    </>
  );
}

/** The newest report of one kind, read in full and drawn. */
function KindSection({ project, summary, title }: { project: string; summary: ReportResponse; title: string }) {
  const full = useLoad(() => get<ReportResponse>(path`/projects/${project}/reports/${summary.id}`), [project, summary.id]);
  return (
    <Section
      title={title}
      actions={
        <Link to={to("projects", project, "reports", summary.id)} aria-label={`${title} report #${summary.id}`}>
          Report #{summary.id}
        </Link>
      }
    >
      <p className="report-line">
        <Status value={summary.status} /> {summary.summary}
        <span className="muted">
          {" "}
          · {formatTime(summary.created_at)} by {summary.created_by}
          {summary.monitor ? (
            <>
              {" "}
              · monitor <Link to={to("projects", project, "monitors", summary.monitor)}>{summary.monitor}</Link>
            </>
          ) : null}
          {summary.reference_version_id != null ? (
            <>
              {" "}
              · reference <VersionLink id={summary.reference_version_id} />
            </>
          ) : null}
          {" "}· took {formatDuration(summary.duration_ms)}
        </span>
      </p>
      <LoadState loading={full.loading && !full.data} error={full.error} />
      {full.data ? <ReportResult report={full.data} /> : null}
    </Section>
  );
}

/** Runs a profile or drift check on this version (POST /checks) and shows the new report. */
function RunCheck({
  project,
  dataset,
  version,
  onDone,
}: {
  project: string;
  dataset: string;
  version: DatasetVersionResponse;
  onDone: () => void;
}) {
  const versions = useLoad(
    () => getAll<DatasetVersionResponse>(path`/projects/${project}/datasets/${dataset}/versions`),
    [project, dataset],
  );
  const others = (versions.data?.items ?? []).filter((v) => v.version !== version.version).sort((a, b) => b.version - a.version);
  const [kind, setKind] = useState<"profile" | "drift">("profile");
  const [reference, setReference] = useState("");
  const [options, setOptions] = useState("");
  const [made, setMade] = useState<ReportResponse | undefined>();
  const { error, busy, run, clear } = useAction();
  const previous = others.find((v) => v.version < version.version) ?? others[0];
  const chosen = reference || (previous ? String(previous.version) : "");
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setMade(undefined);
    const report = await run(async () => {
      let extra: Record<string, unknown> = {};
      if (kind === "drift" && options.trim()) {
        try {
          extra = JSON.parse(options);
        } catch (err) {
          throw new Error(`the options are not JSON: ${(err as Error).message}`);
        }
      }
      const body: Record<string, unknown> = { check: { ...extra, kind }, dataset, version: version.version };
      if (kind === "drift") body.reference = { version: Number(chosen) };
      return api<ReportResponse>("POST", path`/projects/${project}/checks`, body);
    });
    if (report) {
      setMade(report);
      onDone();
    }
  };
  return (
    <details className="panel" data-testid="run-check">
      <summary>Run a check</summary>
      <form onSubmit={submit} className="inline-form">
        <Field label="Check">
          <select
            value={kind}
            onChange={(e) => {
              setKind(e.target.value as "profile" | "drift");
              clear();
            }}
          >
            <option value="profile">Profile</option>
            <option value="drift">Drift against another version</option>
          </select>
        </Field>
        {kind === "drift" ? (
          <>
            <Field label="Reference version">
              <select value={chosen} onChange={(e) => setReference(e.target.value)} required>
                {others.length === 0 ? <option value="">no other version</option> : null}
                {others.map((v) => (
                  <option key={v.id} value={v.version}>
                    v{v.version} ({formatNumber(v.row_count)} rows)
                  </option>
                ))}
              </select>
            </Field>
            <Field label="Options (JSON, optional)">
              <input
                value={options}
                onChange={(e) => setOptions(e.target.value)}
                size={36}
                className="mono"
                placeholder='{"drift_share": 0.3, "method": "psi"}'
              />
            </Field>
          </>
        ) : null}
        <button type="submit" className="primary" disabled={busy || (kind === "drift" && !chosen)}>
          {busy ? "Running…" : "Run check"}
        </button>
        <ErrorBanner error={error ?? versions.error} />
      </form>
      {made ? (
        <p className="notice" role="status">
          <Status value={made.status} /> {made.kind} report{" "}
          <Link to={to("projects", project, "reports", made.id)}>#{made.id}</Link>: {made.summary} (shown below)
        </p>
      ) : null}
    </details>
  );
}
