// A project's datasets (name, sensitivity, versions, created), each linking to its page, and
// creating one where the caller may.
import { useState } from "react";
import { api, getAll, path } from "../../api/client";
import type { DatasetResponse } from "../../api/schema.gen";
import { CreateNamed } from "../../components/CreateNamed";
import { Sensitivity } from "../../components/Sensitivity";
import { Table } from "../../components/Table";
import { Choice, Field, LoadState } from "../../components/ui";
import { SENSITIVITIES } from "../../lib/clearance";
import { formatNumber, formatTime } from "../../lib/format";
import { useLoad } from "../../lib/hooks";
import { Link, to } from "../../lib/router";
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
  const [sensitivity, setSensitivity] = useState("internal");
  return (
    <CreateNamed
      summary="New dataset"
      submitLabel="Create dataset"
      create={async (fields) => {
        const made = await api<DatasetResponse>("POST", path`/projects/${project}/datasets`, { ...fields, sensitivity });
        return to("projects", project, "datasets", made.name);
      }}
    >
      <Field label="Sensitivity" hint="The clearance needed to read its rows">
        <Choice value={sensitivity} onChange={setSensitivity} options={SENSITIVITIES} />
      </Field>
    </CreateNamed>
  );
}
