// A project's experiments (active or deleted), each linking to its runs; a form to start a new
// one for those allowed `experiment.create`, and restore for deleted ones where allowed.
import { useState } from "react";
import { api, getAll, path, query } from "../../api/client";
import type { ExperimentResponse } from "../../api/schema.gen";
import { CreateNamed } from "../../components/CreateNamed";
import { Table, type Column } from "../../components/Table";
import { ErrorBanner, Field, LoadState } from "../../components/ui";
import { formatTime } from "../../lib/format";
import { useAction, useLoad } from "../../lib/hooks";
import { Link, to } from "../../lib/router";
import { allows, useAccess } from "../../lib/session";

type View = "active_only" | "deleted_only";

export function ProjectExperiments({ project }: { project: string }) {
  const [view, setView] = useState<View>("active_only");
  const access = useAccess(project);
  const experiments = useLoad(
    () => getAll<ExperimentResponse>(path`/projects/${project}/experiments` + query({ view })),
    [project, view],
  );
  const restore = useAction();
  const mayRestore = view === "deleted_only" && allows(access, "experiment.delete");
  const columns: Array<Column<ExperimentResponse>> = [
    {
      key: "name",
      header: "Name",
      cell: (e) => <Link to={to("projects", project, "experiments", e.id)}>{e.name}</Link>,
      sort: (e) => e.name,
    },
    { key: "id", header: "Id", cell: (e) => e.id, sort: (e) => e.id, className: "num" },
    { key: "description", header: "Description", cell: (e) => e.description || <span className="muted">—</span> },
    { key: "created_by", header: "Created by", cell: (e) => e.created_by, sort: (e) => e.created_by },
    { key: "created_at", header: "Created (UTC)", cell: (e) => formatTime(e.created_at), sort: (e) => e.created_at },
  ];
  if (view === "deleted_only") {
    columns.push({
      key: "deleted_at",
      header: "Deleted (UTC)",
      cell: (e) => formatTime(e.deleted_at),
      sort: (e) => e.deleted_at,
    });
  }
  if (mayRestore) {
    columns.push({
      key: "restore",
      header: <span className="visually-hidden">Actions</span>,
      cell: (e) => (
        <button
          type="button"
          disabled={restore.busy}
          onClick={async () => {
            const done = await restore.run(() =>
              api("POST", path`/projects/${project}/experiments/${e.id}/restore`),
            );
            if (done !== undefined) experiments.reload();
          }}
        >
          Restore
        </button>
      ),
    });
  }
  return (
    <div data-testid="experiments">
      {allows(access, "experiment.create") ? <CreateExperiment project={project} /> : null}
      <div className="toolbar">
        <Field label="Show">
          <select value={view} onChange={(e) => setView(e.target.value as View)}>
            <option value="active_only">Active experiments</option>
            <option value="deleted_only">Deleted experiments</option>
          </select>
        </Field>
        {experiments.data ? (
          <span className="muted">
            {experiments.data.items.length}
            {experiments.data.truncated ? "+" : ""} experiment{experiments.data.items.length === 1 ? "" : "s"}
          </span>
        ) : null}
      </div>
      <ErrorBanner error={restore.error} onDismiss={restore.clear} />
      <LoadState loading={experiments.loading && !experiments.data} error={experiments.error} />
      {experiments.data ? (
        <Table
          caption={view === "active_only" ? "Experiments" : "Deleted experiments"}
          rows={experiments.data.items}
          rowKey={(e) => String(e.id)}
          columns={columns}
          empty={view === "active_only" ? "No experiments in this project yet." : "No deleted experiments."}
        />
      ) : null}
    </div>
  );
}

function CreateExperiment({ project }: { project: string }) {
  return (
    <CreateNamed
      summary="New experiment"
      submitLabel="Create experiment"
      create={async (fields) => {
        const made = await api<ExperimentResponse>("POST", path`/projects/${project}/experiments`, fields);
        return to("projects", project, "experiments", made.id);
      }}
    />
  );
}
