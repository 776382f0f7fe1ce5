// The dashboard: the session gate, the frame, and the page for the current path.
import { Component, useEffect, type ErrorInfo, type ReactNode } from "react";
import { Layout } from "./components/Layout";
import { match, navigate, useLocation } from "./lib/router";
import { SessionProvider } from "./lib/session";
import { Account } from "./pages/Account";
import { Admin } from "./pages/Admin";
import { Audit } from "./pages/Audit";
import { Compare } from "./pages/Compare";
import { ComplianceReport } from "./pages/ComplianceReport";
import { Dataset } from "./pages/Dataset";
import { DatasetVersion } from "./pages/DatasetVersion";
import { Experiment } from "./pages/Experiment";
import { Lineage } from "./pages/Lineage";
import { Model } from "./pages/Model";
import { ModelVersion } from "./pages/ModelVersion";
import { Monitor } from "./pages/Monitor";
import { ProjectHome } from "./pages/ProjectHome";
import { Projects } from "./pages/Projects";
import { Report } from "./pages/Report";
import { Run } from "./pages/Run";
import { SignIn } from "./pages/SignIn";
import { Webhook } from "./pages/Webhook";

type Params = Record<string, string>;

/** Every page, by path pattern (first match wins). */
const ROUTES: Array<[string, (params: Params, search: URLSearchParams) => ReactNode]> = [
  ["/projects", () => <Projects />],
  ["/projects/:project", (p) => <ProjectHome project={p.project} />],
  ["/projects/:project/experiments/:experiment", (p) => <Experiment project={p.project} experiment={p.experiment} />],
  ["/projects/:project/compare", (p, s) => <Compare project={p.project} runs={(s.get("runs") ?? "").split(",").filter(Boolean)} />],
  ["/runs/:run", (p) => <Run run={p.run} />],
  ["/projects/:project/datasets/:dataset", (p) => <Dataset project={p.project} dataset={p.dataset} />],
  [
    "/projects/:project/datasets/:dataset/versions/:version",
    (p) => <DatasetVersion project={p.project} dataset={p.dataset} version={p.version} />,
  ],
  ["/projects/:project/reports/:id", (p) => <Report project={p.project} id={p.id} />],
  ["/projects/:project/compliance/:id", (p) => <ComplianceReport project={p.project} id={p.id} />],
  ["/projects/:project/models/:model", (p) => <Model project={p.project} model={p.model} />],
  [
    "/projects/:project/models/:model/versions/:version",
    (p) => <ModelVersion project={p.project} model={p.model} version={p.version} />,
  ],
  ["/projects/:project/monitors/:monitor", (p) => <Monitor project={p.project} monitor={p.monitor} />],
  ["/projects/:project/webhooks/:id", (p) => <Webhook project={p.project} id={p.id} />],
  ["/lineage", (_p, s) => <Lineage kind={s.get("kind") ?? ""} id={s.get("id") ?? ""} />],
  ["/audit", () => <Audit />],
  ["/admin", () => <Admin />],
  ["/account", () => <Account />],
];

/** Shows a page's rendering error in place of the page, instead of a blank dashboard. */
class PageBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  componentDidCatch(error: Error, info: ErrorInfo) {
    console.error("page failed", error, info.componentStack);
  }
  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="error" role="alert">
        <strong>This page failed</strong> <span className="message">{this.state.error.message}</span>
      </div>
    );
  }
}

function Home() {
  useEffect(() => navigate("/projects", true), []);
  return null;
}

function Page() {
  const { path, search } = useLocation();
  if (path === "/" || path === "") return <Home />;
  for (const [pattern, render] of ROUTES) {
    const params = match(pattern, path);
    if (params) return <>{render(params, search)}</>;
  }
  return (
    <div className="error" role="alert">
      <strong>Not found</strong> <span className="message">No dashboard page at {path}.</span>
    </div>
  );
}

/** A fresh boundary per path, so that going elsewhere leaves a failed page behind. */
function PathBoundary() {
  const { path } = useLocation();
  return (
    <PageBoundary key={path}>
      <Page />
    </PageBoundary>
  );
}

export function App() {
  return (
    <SessionProvider signedOut={(done) => <SignIn done={done} />}>
      <Layout>
        <PathBoundary />
      </Layout>
    </SessionProvider>
  );
}
