// One run: what it is (status, who, when), a chart per metric, its params and tags, its
// artifacts, the dataset versions it read and what it wrote, and a link to its lineage. Those
// who may write the run can rename it and set its status.
import { useState, type FormEvent } from "react";
import { api, get, path, query } from "../api/client";
import type {
  ArtifactListResponse,
  ExperimentResponse,
  KeyValue,
  RunDatasetResponse,
  RunResponse,
  UpdateRun,
} from "../api/schema.gen";
import { MetricChart } from "../components/MetricChart";
import { Table } from "../components/Table";
import { Choice, Empty, ErrorBanner, Facts, Field, LoadState, PageHeader, Section, Status } from "../components/ui";
import { formatBytes, formatDuration, formatNumber, formatTime, shortHash } from "../lib/format";
import { useAction, useLoad } from "../lib/hooks";
import { Link, to } from "../lib/router";
import { runDuration } from "../lib/runs";
import { allows, useAccess, useSession } from "../lib/session";

const STATUSES = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"];

export function Run({ run }: { run: string }) {
  const loaded = useLoad(() => get<RunResponse>(path`/runs/${run}`), [run]);
  return (
    <>
      <LoadState loading={loaded.loading && !loaded.data} error={loaded.error} />
      {loaded.data ? <RunPage run={loaded.data} reload={loaded.reload} /> : null}
    </>
  );
}

function RunPage({ run, reload }: { run: RunResponse; reload: () => void }) {
  const experiment = useLoad(
    () => get<ExperimentResponse>(path`/projects/${run.project}/experiments/${run.experiment_id}`),
    [run.project, run.experiment_id],
  );
  const access = useAccess(run.project);
  const { me } = useSession();
  const mayWrite = allows(access, "run.write", run.created_by, me.username);
  const experimentName = experiment.data?.name ?? `experiment ${run.experiment_id}`;
  const experimentPath = to("projects", run.project, "experiments", run.experiment_id);
  const metrics = [...run.metrics].sort((a, b) => a.key.localeCompare(b.key));
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/projects">Projects</Link> / <Link to={to("projects", run.project)}>{run.project}</Link> /{" "}
        <Link to={experimentPath}>{experimentName}</Link> / <span>{run.name}</span>
      </nav>
      <PageHeader
        title={
          <>
            {run.name} <Status value={run.status} />
          </>
        }
        sub={
          <>
            Run <code>{run.run_id}</code> in <Link to={experimentPath}>{experimentName}</Link>
            {run.deleted_at ? <strong> · deleted {formatTime(run.deleted_at)} UTC</strong> : null}
          </>
        }
      >
        {access?.actions.includes("lineage.read") ? (
          <Link className="button" to={`/lineage?kind=run&id=${encodeURIComponent(run.run_id)}`}>
            Lineage
          </Link>
        ) : null}
      </PageHeader>
      <ErrorBanner error={experiment.error} />
      <div className="panel">
        <Facts
          items={[
            ["Created by", run.created_by],
            ["Started (UTC)", formatTime(run.start_time)],
            ["Ended (UTC)", run.end_time ? formatTime(run.end_time) : "not ended"],
            ["Duration", formatDuration(runDuration(run))],
            ["Project", run.project],
            ["Experiment", <Link key="experiment" to={experimentPath}>{experimentName}</Link>],
          ]}
        />
      </div>
      {mayWrite ? <EditRun key={run.run_id} run={run} done={reload} /> : null}
      <Section title={`Metrics (${metrics.length})`}>
        {metrics.length === 0 ? (
          <Empty>This run has logged no metrics.</Empty>
        ) : (
          <div className="grid metric-grid">
            {metrics.map((m) => (
              <MetricChart
                key={`${run.run_id}/${m.key}`}
                metric={m.key}
                runs={[{ id: run.run_id, name: run.name }]}
                title={
                  <>
                    {m.key}{" "}
                    <span className="muted latest">
                      latest {formatNumber(m.value)} at step {m.step ?? 0}
                    </span>
                  </>
                }
              />
            ))}
          </div>
        )}
      </Section>
      <div className="grid">
        <Section title={`Params (${run.params.length})`}>
          <KeyValues rows={run.params} caption="Params of the run" empty="No params logged." />
        </Section>
        <Section title={`Tags (${run.tags.length})`}>
          <KeyValues rows={run.tags} caption="Tags of the run" empty="No tags set." />
        </Section>
      </div>
      <Section title="Artifacts">
        <Artifacts key={run.run_id} run={run.run_id} />
      </Section>
      <div className="grid">
        <Section title={`Inputs (${run.inputs.length})`}>
          <DatasetVersions rows={run.inputs} caption="Dataset versions the run read" empty="No recorded inputs." withContext />
        </Section>
        <Section title={`Outputs (${run.outputs.datasets.length + run.outputs.models.length})`}>
          <h3>Datasets</h3>
          <DatasetVersions rows={run.outputs.datasets} caption="Dataset versions the run wrote" empty="No dataset outputs." />
          <h3>Models</h3>
          <Table
            caption="Model versions the run produced"
            rows={run.outputs.models}
            rowKey={(m) => String(m.model_version_id)}
            empty="No model outputs."
            columns={[
              {
                key: "model",
                header: "Model version",
                cell: (m) => (
                  <Link to={to("projects", run.project, "models", m.model, "versions", m.version)}>
                    {m.model} v{m.version}
                  </Link>
                ),
                sort: (m) => m.model,
              },
            ]}
          />
        </Section>
      </div>
    </>
  );
}

function KeyValues({ rows, caption, empty }: { rows: KeyValue[]; caption: string; empty: string }) {
  return (
    <Table
      caption={caption}
      rows={rows}
      rowKey={(kv) => kv.key}
      empty={empty}
      height={400}
      columns={[
        { key: "key", header: "Key", cell: (kv) => <code>{kv.key}</code>, sort: (kv) => kv.key },
        { key: "value", header: "Value", cell: (kv) => <span title={kv.value}>{kv.value}</span>, sort: (kv) => kv.value },
      ]}
    />
  );
}

function DatasetVersions({
  rows,
  caption,
  empty,
  withContext,
}: {
  rows: RunDatasetResponse[];
  caption: string;
  empty: string;
  withContext?: boolean;
}) {
  return (
    <Table
      caption={caption}
      rows={rows}
      rowKey={(d) => `${d.dataset_version_id}:${d.context}`}
      empty={empty}
      columns={[
        {
          key: "dataset",
          header: "Dataset version",
          cell: (d) => (
            <Link to={to("projects", d.project, "datasets", d.dataset, "versions", d.version)}>
              {d.dataset} v{d.version}
            </Link>
          ),
          sort: (d) => d.dataset,
        },
        ...(withContext
          ? [{ key: "context", header: "Context", cell: (d: RunDatasetResponse) => d.context || "—", sort: (d: RunDatasetResponse) => d.context }]
          : []),
        { key: "project", header: "Project", cell: (d) => d.project },
        { key: "hash", header: "Content hash", cell: (d) => <code title={d.content_hash}>{shortHash(d.content_hash)}</code> },
      ]}
    />
  );
}

/** One directory level of the run's artifacts; directories open in place, files download. */
function Artifacts({ run }: { run: string }) {
  const [dir, setDir] = useState("");
  const listing = useLoad(
    () => get<ArtifactListResponse>(path`/runs/${run}/artifacts` + query({ path: dir })),
    [run, dir],
  );
  const parts = dir ? dir.split("/") : [];
  const files = listing.data
    ? [...listing.data.files].sort((a, b) => Number(b.is_dir) - Number(a.is_dir) || a.path.localeCompare(b.path))
    : [];
  const href = (file: string) =>
    `/api/v1/runs/${encodeURIComponent(run)}/artifacts/` + file.split("/").map(encodeURIComponent).join("/");
  return (
    <div data-testid="artifacts">
      <nav className="crumbs" aria-label="Artifact folder">
        {dir ? (
          <button type="button" className="link" onClick={() => setDir("")}>
            artifacts
          </button>
        ) : (
          <span>artifacts</span>
        )}
        {parts.map((part, i) => (
          <span key={i}>
            {" / "}
            {i === parts.length - 1 ? (
              <span aria-current="location">{part}</span>
            ) : (
              <button type="button" className="link" onClick={() => setDir(parts.slice(0, i + 1).join("/"))}>
                {part}
              </button>
            )}
          </span>
        ))}
      </nav>
      <LoadState loading={listing.loading && !listing.data} error={listing.error} />
      {listing.data ? (
        <Table
          caption={`Artifacts in ${dir || "the root folder"}`}
          rows={files}
          rowKey={(f) => f.path}
          empty={dir ? "This folder is empty." : "This run has no artifacts."}
          height={400}
          columns={[
            {
              key: "name",
              header: "Name",
              cell: (f) => {
                const name = f.path.split("/").pop() || f.path;
                return f.is_dir ? (
                  <button type="button" className="link" onClick={() => setDir(f.path)}>
                    📁 {name}/
                  </button>
                ) : (
                  <a href={href(f.path)} download={name}>
                    {name}
                  </a>
                );
              },
            },
            { key: "size", header: "Size", className: "num", cell: (f) => (f.is_dir ? "folder" : formatBytes(f.byte_size)) },
          ]}
        />
      ) : null}
    </div>
  );
}

/** Rename the run and set its status (`PATCH /runs/{id}`), for those who may write it. */
function EditRun({ run, done }: { run: RunResponse; done: () => void }) {
  const [name, setName] = useState(run.name);
  const [status, setStatus] = useState(run.status);
  const action = useAction();
  const save = async (event: FormEvent, body: UpdateRun) => {
    event.preventDefault();
    const updated = await action.run(() => api<RunResponse>("PATCH", path`/runs/${run.run_id}`, body));
    if (updated) done();
  };
  return (
    <details className="panel" data-testid="edit-run">
      <summary>Edit run</summary>
      <ErrorBanner error={action.error} onDismiss={action.clear} />
      <div className="edit-run">
        <form className="inline-form" onSubmit={(e) => save(e, { name })}>
          <Field label="Name">
            <input value={name} onChange={(e) => setName(e.target.value)} required />
          </Field>
          <button type="submit" disabled={action.busy || name === run.name}>
            Rename
          </button>
        </form>
        <form className="inline-form" onSubmit={(e) => save(e, { status })}>
          <Field label="Status">
            <Choice value={status} onChange={setStatus} options={STATUSES} />
          </Field>
          <button type="submit" disabled={action.busy || status === run.status}>
            Set status
          </button>
        </form>
      </div>
    </details>
  );
}
