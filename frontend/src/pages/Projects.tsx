// Every project the caller may read, and creating one where allowed.
import { api, getAll } from "../api/client";
import type { ProjectResponse } from "../api/schema.gen";
import { CreateNamed } from "../components/CreateNamed";
import { Table } from "../components/Table";
import { LoadState, PageHeader, Truncated } from "../components/ui";
import { formatTime } from "../lib/format";
import { useLoad } from "../lib/hooks";
import { Link, to } from "../lib/router";
import { useGlobal } from "../lib/session";

export function Projects() {
  const projects = useLoad(() => getAll<ProjectResponse>("/projects"), []);
  const mayCreate = useGlobal("project.create");
  return (
    <>
      <PageHeader title="Projects" sub="Each project holds its datasets, experiments, models and monitors." />
      {mayCreate ? <CreateProject /> : null}
      <LoadState loading={projects.loading && !projects.data} error={projects.error} />
      <Truncated list={projects.data} what="projects" />
      {projects.data ? (
        <Table
          caption="Projects"
          rows={projects.data.items}
          rowKey={(p) => p.name}
          empty="No projects you can read yet."
          columns={[
            { key: "name", header: "Name", cell: (p) => <Link to={to("projects", p.name)}>{p.name}</Link>, sort: (p) => p.name },
            { key: "description", header: "Description", cell: (p) => p.description },
            { key: "created_by", header: "Created by", cell: (p) => p.created_by, sort: (p) => p.created_by },
            { key: "created_at", header: "Created", cell: (p) => formatTime(p.created_at), sort: (p) => p.created_at },
          ]}
        />
      ) : null}
    </>
  );
}

function CreateProject() {
  return (
    <CreateNamed
      summary="New project"
      submitLabel="Create project"
      create={async (fields) => to("projects", (await api<ProjectResponse>("POST", "/projects", fields)).name)}
    />
  );
}
