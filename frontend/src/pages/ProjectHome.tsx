// One project: its experiments, datasets, models, monitoring, audit trail and members, each in
// a tab shown only to those who may read it.
import type { ReactNode } from "react";
import { get, path } from "../api/client";
import type { ProjectResponse } from "../api/schema.gen";
import { LoadState, PageHeader, Tabs } from "../components/ui";
import { useLoad } from "../lib/hooks";
import { Link, useLocation } from "../lib/router";
import { accessFor, useAccess } from "../lib/session";
import { Audit } from "./Audit";
import { ProjectDatasets } from "./project/Datasets";
import { ProjectExperiments } from "./project/Experiments";
import { ProjectMembers } from "./project/Members";
import { ProjectModels } from "./project/Models";
import { ProjectMonitoring } from "./project/Monitoring";

export function ProjectHome({ project }: { project: string }) {
  const loaded = useLoad(() => get<ProjectResponse>(path`/projects/${project}`), [project]);
  const access = useAccess(project);
  const accessLoad = useLoad(() => accessFor(project), [project]);
  const may = (action: string) => access?.actions.includes(action) ?? false;
  type Tab = { id: string; label: string; panel: () => ReactNode };
  const candidates: Array<Tab | false> = [
    may("experiment.read") && { id: "experiments", label: "Experiments", panel: () => <ProjectExperiments project={project} /> },
    may("dataset.read") && { id: "datasets", label: "Datasets", panel: () => <ProjectDatasets project={project} /> },
    may("model.read") && { id: "models", label: "Models", panel: () => <ProjectModels project={project} /> },
    may("monitor.read") && { id: "monitoring", label: "Monitoring", panel: () => <ProjectMonitoring project={project} /> },
    may("audit.read") && { id: "audit", label: "Audit trail", panel: () => <Audit project={project} /> },
    { id: "members", label: "Members", panel: () => <ProjectMembers project={project} /> },
  ];
  const tabs = candidates.filter((t): t is Tab => Boolean(t));
  const tab = useLocation().search.get("tab") ?? undefined;
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/projects">Projects</Link> / <span>{project}</span>
      </nav>
      <LoadState loading={loaded.loading && !loaded.data} error={loaded.error} />
      {loaded.data ? (
        <>
          <PageHeader
            title={loaded.data.name}
            sub={
              <>
                {loaded.data.description || "No description."}{" "}
                <span className="muted roles" data-testid="project-roles">
                  Your roles here: {access ? access.roles.join(", ") || "none (global rules)" : "…"}
                </span>
              </>
            }
          />
          <LoadState loading={false} error={accessLoad.error} />
          {access ? <Tabs key={`${project}/${tab}`} tabs={tabs} initial={tab} /> : <p className="loading">Loading…</p>}
        </>
      ) : null}
    </>
  );
}
