// Compliance in the dashboard (docs/compliance.md): the documentation only a person can write
// for a model version or a dataset version (missing fields flagged), generating its reports
// (model card and Annex IV, or datasheet), and the reports stored for it with their hashes.
import { useState, type FormEvent } from "react";
import { api, get, path, query, type List } from "../api/client";
import type { ComplianceReportResponse, DocumentationResponse } from "../api/schema.gen";
import { formatTime, shortHash } from "../lib/format";
import { useAction, useLoad } from "../lib/hooks";
import { utcInputToMs } from "../lib/audit";
import { Link, navigate, to } from "../lib/router";
import { changedFields, reportKindLabel } from "../lib/compliance";
import { Table } from "./Table";
import { Empty, ErrorBanner, Field, LoadState, Section } from "./ui";

type Subject =
  | { kind: "model"; name: string; version: number; retired: boolean }
  | { kind: "dataset"; name: string; version: number; sensitive: boolean };

type Props = {
  project: string;
  subject: Subject;
  mayEdit: boolean;
};

export function ComplianceSection({ project, subject, mayEdit }: Props) {
  const base =
    subject.kind === "model"
      ? path`/projects/${project}/models/${subject.name}/versions/${subject.version}`
      : path`/projects/${project}/datasets/${subject.name}/versions/${subject.version}`;
  const subjectKey = `${subject.kind}/${subject.name}/version/${subject.version}`;
  const reports = useLoad(
    () => get<List<ComplianceReportResponse>>(`${path`/projects/${project}/compliance-reports`}${query({ subject: subjectKey })}`),
    [project, subjectKey],
  );
  return (
    <Section title="Compliance">
      <Documentation base={`${base}/documentation`} mayEdit={mayEdit} />
      <Generate project={project} subject={subject} onDone={reports.reload} />
      <h3>Reports</h3>
      <LoadState loading={reports.loading && !reports.data} error={reports.error} />
      {reports.data ? <ReportList project={project} reports={reports.data.items} /> : null}
    </Section>
  );
}

/** The stored reports, newest first, with their hashes and files. */
export function ReportList({ project, reports }: { project: string; reports: ComplianceReportResponse[] }) {
  return (
    <div data-testid="compliance-reports">
      <Table<ComplianceReportResponse>
        caption="Stored compliance reports"
        rows={reports}
        rowKey={(r) => String(r.id)}
        empty="No report generated yet."
        columns={[
          {
            key: "id",
            header: "Report",
            cell: (r) => <Link to={to("projects", project, "compliance", r.id)}>#{r.id}</Link>,
          },
          { key: "kind", header: "Kind", cell: (r) => reportKindLabel(r.kind) },
          { key: "missing", header: "Missing fields", cell: (r) => String(r.missing_fields) },
          { key: "by", header: "By", cell: (r) => r.created_by },
          { key: "at", header: "When (UTC)", cell: (r) => formatTime(r.created_at) },
          { key: "hash", header: "SHA-256 (JSON)", cell: (r) => <code title={r.sha256}>{shortHash(r.sha256, 16)}</code> },
          {
            key: "files",
            header: "Files",
            cell: (r) => (
              <span className="chips">
                {r.files.map((f) => (
                  <a key={f.format} href={f.url} download>
                    {f.format.toUpperCase()}
                  </a>
                ))}
              </span>
            ),
          },
        ]}
      />
    </div>
  );
}

function Generate({ project, subject, onDone }: { project: string; subject: Subject; onDone: () => void }) {
  const { error, busy, run } = useAction();
  const [dp, setDp] = useState('[{"query": {"kind": "count"}, "epsilon": 0.5}]');
  const [dpError, setDpError] = useState("");
  const generate = async (kind: string) => {
    let body: Record<string, unknown>;
    if (subject.kind === "model") {
      body = { kind, model: subject.name, version: subject.version };
    } else {
      body = { kind, dataset: subject.name, version: subject.version };
      if (subject.sensitive) {
        try {
          body.dp = JSON.parse(dp);
          setDpError("");
        } catch {
          setDpError("The DP questions are not valid JSON.");
          return;
        }
      }
    }
    if (await run(() => api<ComplianceReportResponse>("POST", path`/projects/${project}/compliance-reports`, body))) onDone();
  };
  if (subject.kind === "model" && subject.retired) {
    return <p className="notice">A retired version gets no new report; the stored ones stay below.</p>;
  }
  return (
    <div className="inline-form" data-testid="generate-reports">
      <ErrorBanner error={error} />
      {dpError ? <p role="alert" className="error">{dpError}</p> : null}
      {subject.kind === "model" ? (
        <>
          <button type="button" className="primary" disabled={busy} onClick={() => generate("model_card")}>
            Generate model card
          </button>
          <button type="button" disabled={busy} onClick={() => generate("annex_iv")}>
            Generate Annex IV documentation
          </button>
        </>
      ) : (
        <>
          {subject.sensitive ? (
            <Field label="DP questions (JSON)" hint="Sensitive data: the datasheet carries these differentially private figures, charged to your budget, instead of a profile.">
              <textarea value={dp} onChange={(e) => setDp(e.target.value)} rows={3} cols={60} />
            </Field>
          ) : null}
          <button type="button" className="primary" disabled={busy} onClick={() => generate("datasheet")}>
            Generate datasheet
          </button>
        </>
      )}
    </div>
  );
}

function Documentation({ base, mayEdit }: { base: string; mayEdit: boolean }) {
  const docs = useLoad(() => get<DocumentationResponse>(base), [base]);
  const [draft, setDraft] = useState<Record<string, string>>({});
  const { error, busy, run } = useAction();
  const fields = docs.data?.fields ?? [];
  const changed = changedFields(fields, draft);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const saved = await run(() => api<DocumentationResponse>("PUT", base, { fields: changed }));
    if (saved) {
      setDraft({});
      docs.reload();
    }
  };
  return (
    <details className="panel" data-testid="documentation">
      <summary>
        Documentation written by people{" "}
        {docs.data ? (
          <span className={`status status-${docs.data.missing ? "warn" : "pass"}`}>
            {docs.data.missing ? `${docs.data.missing} missing` : "complete"}
          </span>
        ) : null}
      </summary>
      <LoadState loading={docs.loading && !docs.data} error={docs.error} />
      {docs.data && fields.length === 0 ? <Empty>No fields.</Empty> : null}
      <form onSubmit={submit}>
        {fields.map((f) => (
          <Field key={f.key} label={f.label} hint={f.value ? `Written by ${f.updated_by}, ${formatTime(f.updated_at)}` : `Missing. ${f.guidance}`}>
            <textarea
              value={draft[f.key] ?? f.value ?? ""}
              onChange={(e) => setDraft({ ...draft, [f.key]: e.target.value })}
              readOnly={!mayEdit}
              rows={2}
            />
          </Field>
        ))}
        <ErrorBanner error={error} />
        {mayEdit ? (
          <button type="submit" className="primary" disabled={busy || Object.keys(changed).length === 0}>
            Save documentation
          </button>
        ) : null}
      </form>
    </details>
  );
}

/** A project's audit-trail exports: a form (resource and UTC range) and the stored ones. */
export function AuditExports({ project }: { project: string }) {
  const [resource, setResource] = useState(`project/${project}`);
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const { error, busy, run } = useAction();
  const exports = useLoad(
    () => get<List<ComplianceReportResponse>>(`${path`/projects/${project}/compliance-reports`}${query({ kind: "audit_export" })}`),
    [project],
  );
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = { kind: "audit_export", resource, since: utcInputToMs(since), until: utcInputToMs(until) };
    const made = await run(() => api<ComplianceReportResponse>("POST", path`/projects/${project}/compliance-reports`, body));
    if (made) navigate(to("projects", project, "compliance", made.id));
  };
  return (
    <Section title="Audit-trail exports">
      <form className="panel inline-form" onSubmit={submit} data-testid="audit-export-form">
        <ErrorBanner error={error} />
        <Field label="Resource" hint="Events on it and under it, e.g. project/p/model/churn.">
          <input value={resource} onChange={(e) => setResource(e.target.value)} size={36} required />
        </Field>
        <Field label="From (UTC)">
          <input type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />
        </Field>
        <Field label="Until (UTC)">
          <input type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />
        </Field>
        <button type="submit" className="primary" disabled={busy}>
          Generate audit export
        </button>
      </form>
      <LoadState loading={exports.loading && !exports.data} error={exports.error} />
      {exports.data ? <ReportList project={project} reports={exports.data.items} /> : null}
    </Section>
  );
}
