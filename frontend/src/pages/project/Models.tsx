// A project's registered models (latest version, aliases, last change), and registering a new
// model where the caller may.
import { api, getAll, path } from "../../api/client";
import type { ModelResponse } from "../../api/schema.gen";
import { CreateNamed } from "../../components/CreateNamed";
import { Table } from "../../components/Table";
import { LoadState } from "../../components/ui";
import { formatTime } from "../../lib/format";
import { useLoad } from "../../lib/hooks";
import { Link, to } from "../../lib/router";
import { allows, useAccess } from "../../lib/session";

export function ProjectModels({ project }: { project: string }) {
  const models = useLoad(() => getAll<ModelResponse>(path`/projects/${project}/models`), [project]);
  const access = useAccess(project);
  return (
    <>
      {allows(access, "model.create") ? <CreateModel project={project} /> : null}
      <LoadState loading={models.loading && !models.data} error={models.error} />
      {models.data ? (
        <>
          {models.data.truncated ? <p className="notice">Showing the first {models.data.items.length} models.</p> : null}
          <Table
            caption={`Registered models of ${project}`}
            rows={models.data.items}
            rowKey={(m) => m.name}
            empty="No registered models yet."
            columns={[
              {
                key: "name",
                header: "Name",
                cell: (m) => <Link to={to("projects", project, "models", m.name)}>{m.name}</Link>,
                sort: (m) => m.name,
              },
              {
                key: "latest",
                header: "Latest version",
                className: "num",
                cell: (m) =>
                  m.latest_version > 0 ? (
                    <Link to={to("projects", project, "models", m.name, "versions", m.latest_version)}>v{m.latest_version}</Link>
                  ) : (
                    "—"
                  ),
                sort: (m) => m.latest_version,
              },
              {
                key: "aliases",
                header: "Aliases",
                cell: (m) =>
                  m.aliases.length ? (
                    <span className="chips">
                      {m.aliases.map((a) => (
                        <span key={a.alias} className="chip" title={`set by ${a.set_by} at ${formatTime(a.set_at)}`}>
                          {a.alias} → v{a.version}
                        </span>
                      ))}
                    </span>
                  ) : (
                    <span className="muted">none</span>
                  ),
              },
              { key: "description", header: "Description", cell: (m) => m.description || "—" },
              { key: "created_by", header: "Created by", cell: (m) => m.created_by, sort: (m) => m.created_by },
              { key: "updated", header: "Updated", cell: (m) => formatTime(m.updated_at), sort: (m) => m.updated_at },
            ]}
          />
        </>
      ) : null}
    </>
  );
}

function CreateModel({ project }: { project: string }) {
  return (
    <CreateNamed
      summary="New model"
      submitLabel="Register model"
      testId="new-model"
      create={async (fields) => {
        const made = await api<ModelResponse>("POST", path`/projects/${project}/models`, fields);
        return to("projects", project, "models", made.name);
      }}
    />
  );
}
