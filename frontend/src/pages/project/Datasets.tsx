// A project's datasets (name, sensitivity, versions, created), each linking to its page, and
// creating one where the caller may.
import { useState, type FormEvent } from "react";
import { api, getAll, path } from "../../api/client";
import type { DatasetResponse } from "../../api/schema.gen";
import { Sensitivity } from "../../components/Sensitivity";
import { Table } from "../../components/Table";
import { ErrorBanner, Field, LoadState } from "../../components/ui";
import { SENSITIVITIES } from "../../lib/clearance";
import { formatNumber, formatTime } from "../../lib/format";
import { useAction, useLoad } from "../../lib/hooks";
import { Link, navigate, to } from "../../lib/router";
import { allows, useAccess } from "../../lib/session";

export function ProjectDatasets({ project }: { project: string }) {
  const datasets = useLoad(() => getAll<DatasetResponse>(path`/projects/${project}/datasets`), [project]);
  const access = useAccess(project);
  return (
    <>
      {allows(access, "dataset.create") ? <CreateDataset project={project} /> : null}
      <LoadState loading={datasets.loading && !datasets.data} error={datasets.error} />
      {datasets.data ? (
        <div data-testid="datasets-table">
          <Table<DatasetResponse>
            caption="Datasets"
            rows={datasets.data.items}
            rowKey={(d) => d.name}
            empty="No datasets in this project yet."
            columns={[
              {
                key: "name",
                header: "Name",
                cell: (d) => <Link to={to("projects", project, "datasets", d.name)}>{d.name}</Link>,
                sort: (d) => d.name,
              },
              { key: "sensitivity", header: "Sensitivity", cell: (d) => <Sensitivity value={d.sensitivity} />, sort: (d) => SENSITIVITIES.indexOf(d.sensitivity as never) },
              { key: "versions", header: "Versions", className: "num", cell: (d) => formatNumber(d.version_count), sort: (d) => d.version_count },
              { key: "description", header: "Description", cell: (d) => d.description },
              { key: "created_by", header: "Created by", cell: (d) => d.created_by, sort: (d) => d.created_by },
              { key: "created_at", header: "Created", cell: (d) => formatTime(d.created_at), sort: (d) => d.created_at },
            ]}
          />
        </div>
      ) : null}
    </>
  );
}

function CreateDataset({ project }: { project: string }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [sensitivity, setSensitivity] = useState("internal");
  const { error, busy, run } = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const made = await run(() =>
      api<DatasetResponse>("POST", path`/projects/${project}/datasets`, { name, description, sensitivity }),
    );
    if (made) navigate(to("projects", project, "datasets", made.name));
  };
  return (
    <details className="panel">
      <summary>New dataset</summary>
      <form onSubmit={submit} className="inline-form">
        <ErrorBanner error={error} />
        <Field label="Name">
          <input value={name} onChange={(e) => setName(e.target.value)} required />
        </Field>
        <Field label="Description">
          <input value={description} onChange={(e) => setDescription(e.target.value)} size={40} />
        </Field>
        <Field label="Sensitivity" hint="The clearance needed to read its rows">
          <select value={sensitivity} onChange={(e) => setSensitivity(e.target.value)}>
            {SENSITIVITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit" className="primary" disabled={busy}>
          Create dataset
        </button>
      </form>
    </details>
  );
}
