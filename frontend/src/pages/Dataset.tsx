// One dataset: its facts, its versions (each linking to its page), changing its description
// and sensitivity where allowed, and a way into its lineage.
import { useState, type FormEvent } from "react";
import { api, get, getAll, path } from "../api/client";
import type { DatasetResponse, DatasetVersionResponse } from "../api/schema.gen";
import { VersionLink } from "../components/reports/VersionLink";
import { Sensitivity } from "../components/Sensitivity";
import { Table } from "../components/Table";
import { Choice, ErrorBanner, Facts, Field, LoadState, PageHeader, Section } from "../components/ui";
import { SENSITIVITIES, clearanceReaches } from "../lib/clearance";
import { formatBytes, formatNumber, formatTime, shortHash } from "../lib/format";
import { useAction, useLoad } from "../lib/hooks";
import { Link, to } from "../lib/router";
import { allows, useAccess, useSession } from "../lib/session";
import { PrivacyBudgets } from "../components/Privacy";
import { MaskingSection } from "../components/Masking";

/** The column names of a stored schema (`{"fields": [{"name"}]}`). */
function columnsOf(schema: unknown): string[] {
  const fields = (schema as { fields?: unknown } | null | undefined)?.fields;
  return Array.isArray(fields) ? fields.map((f) => String((f as { name?: unknown }).name ?? "")).filter(Boolean) : [];
}

export function Dataset({ project, dataset }: { project: string; dataset: string }) {
  const loaded = useLoad(() => get<DatasetResponse>(path`/projects/${project}/datasets/${dataset}`), [project, dataset]);
  const versions = useLoad(
    () => getAll<DatasetVersionResponse>(path`/projects/${project}/datasets/${dataset}/versions`),
    [project, dataset],
  );
  const access = useAccess(project);
  const { me } = useSession();
  const d = loaded.data;
  const items = versions.data?.items ?? [];
  const latest = items.reduce<DatasetVersionResponse | undefined>((a, v) => (!a || v.version > a.version ? v : a), undefined);
  const byId = new Map(items.map((v) => [v.id, v]));
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/projects">Projects</Link> / <Link to={to("projects", project)}>{project}</Link> /{" "}
        <Link to={`${to("projects", project)}?tab=datasets`}>Datasets</Link> / <span>{dataset}</span>
      </nav>
      <LoadState loading={loaded.loading && !d} error={loaded.error} />
      {d ? (
        <>
          <PageHeader title={d.name} sub={d.description || "No description."}>
            {latest && allows(access, "lineage.read") ? (
              <Link className="button" to={`/lineage?kind=dataset_version&id=${latest.id}`}>
                Lineage of v{latest.version}
              </Link>
            ) : null}
          </PageHeader>
          <Section title="Dataset">
            <Facts
              items={[
                ["Sensitivity", <Sensitivity key="Sensitivity" value={d.sensitivity} />],
                ["Versions", formatNumber(d.version_count)],
                ["Created by", d.created_by],
                ["Created", formatTime(d.created_at)],
              ]}
            />
            {allows(access, "dataset.update") ? <EditDataset dataset={d} onSaved={loaded.reload} /> : null}
          </Section>
          {allows(access, "privacy.read") ? (
            <PrivacyBudgets project={project} dataset={dataset} mayManage={allows(access, "privacy.manage")} />
          ) : null}
          <MaskingSection
            project={project}
            dataset={dataset}
            columns={columnsOf(latest?.schema)}
            // Masking opens a view to readers below the sensitivity: it needs clearance for it.
            mayManage={allows(access, "privacy.manage") && clearanceReaches(me.clearance, d.sensitivity)}
          />
          <Section title="Versions">
            <LoadState loading={versions.loading && !versions.data} error={versions.error} />
            {versions.data ? (
              <div data-testid="versions-table">
                <Table<DatasetVersionResponse>
                  caption={`Versions of ${dataset}`}
                  rows={items}
                  rowKey={(v) => String(v.id)}
                  empty="No versions yet."
                  columns={[
                    {
                      key: "version",
                      header: "Version",
                      cell: (v) => <Link to={to("projects", project, "datasets", dataset, "versions", v.version)}>v{v.version}</Link>,
                      sort: (v) => v.version,
                    },
                    { key: "rows", header: "Rows", className: "num", cell: (v) => formatNumber(v.row_count), sort: (v) => v.row_count },
                    { key: "bytes", header: "Size", className: "num", cell: (v) => formatBytes(v.byte_size), sort: (v) => v.byte_size },
                    { key: "format", header: "Format", cell: (v) => v.format, sort: (v) => v.format },
                    {
                      key: "hash",
                      header: "Content hash",
                      cell: (v) => (
                        <code title={v.content_hash}>{shortHash(v.content_hash)}</code>
                      ),
                    },
                    { key: "description", header: "Description", cell: (v) => v.description },
                    { key: "created_by", header: "Created by", cell: (v) => v.created_by, sort: (v) => v.created_by },
                    { key: "created_at", header: "Created", cell: (v) => formatTime(v.created_at), sort: (v) => v.created_at },
                    {
                      key: "derived",
                      header: "Derived from",
                      cell: (v) => {
                        if (v.derived_from_id == null) return "—";
                        const same = byId.get(v.derived_from_id);
                        return same ? (
                          <Link to={to("projects", project, "datasets", dataset, "versions", same.version)}>v{same.version}</Link>
                        ) : (
                          <VersionLink id={v.derived_from_id} />
                        );
                      },
                    },
                  ]}
                />
              </div>
            ) : null}
          </Section>
        </>
      ) : null}
    </>
  );
}

function EditDataset({ dataset, onSaved }: { dataset: DatasetResponse; onSaved: () => void }) {
  const [description, setDescription] = useState(dataset.description);
  const [sensitivity, setSensitivity] = useState(dataset.sensitivity);
  const [saved, setSaved] = useState(false);
  const { error, busy, run } = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const body: Record<string, string> = {};
    if (description !== dataset.description) body.description = description;
    if (sensitivity !== dataset.sensitivity) body.sensitivity = sensitivity;
    const done = await run(() =>
      api<DatasetResponse>("PATCH", path`/projects/${dataset.project}/datasets/${dataset.name}`, body),
    );
    if (done) {
      setSaved(true);
      onSaved();
    }
  };
  return (
    <details className="edit">
      <summary>Edit description and sensitivity</summary>
      <form onSubmit={submit} className="inline-form" data-testid="dataset-edit">
        <ErrorBanner error={error} />
        <Field label="Description">
          <input value={description} onChange={(e) => setDescription(e.target.value)} size={50} />
        </Field>
        <Field label="Sensitivity">
          <Choice value={sensitivity} onChange={setSensitivity} options={SENSITIVITIES} />
        </Field>
        <button type="submit" className="primary" disabled={busy}>
          Save
        </button>
        {saved && !error ? <span role="status">Saved.</span> : null}
      </form>
    </details>
  );
}
