// One monitor: its facts and checks, its jobs and its reports; for those who manage monitors,
// running it now, enabling or disabling it, and deleting it (after a confirmation).
import { useEffect, useRef, useState } from "react";
import { api, get, getAll, path, query } from "../api/client";
import type { JobResponse, MonitorResponse, ReportResponse } from "../api/schema.gen";
import { ReportTable } from "../components/reports/ReportTable";
import { VersionLink } from "../components/reports/VersionLink";
import { Table } from "../components/Table";
import { ErrorBanner, Facts, Json, LoadState, PageHeader, Section, Status, Truncated } from "../components/ui";
import { formatTime } from "../lib/format";
import { scheduleText } from "../lib/monitoring";
import { useAction, useLoad } from "../lib/hooks";
import { Link, navigate, to } from "../lib/router";
import { allows, useAccess } from "../lib/session";

export function Monitor({ project, monitor }: { project: string; monitor: string }) {
  const loaded = useLoad(() => get<MonitorResponse>(path`/projects/${project}/monitors/${monitor}`), [project, monitor]);
  const jobs = useLoad(
    () => getAll<JobResponse>(`${path`/projects/${project}/jobs`}${query({ monitor })}`, 1000),
    [project, monitor],
  );
  const reports = useLoad(
    () => getAll<ReportResponse>(`${path`/projects/${project}/reports`}${query({ monitor })}`, 1000),
    [project, monitor],
  );
  const access = useAccess(project);
  const m = loaded.data;
  const reloadAll = () => {
    loaded.reload();
    jobs.reload();
    reports.reload();
  };
  // While a job waits or runs (and the tab is visible), look at the jobs again, less often as
  // time goes by; when the last one finishes, the monitor and its reports are read once more.
  const pending = jobs.data?.items.some((j) => j.state === "queued" || j.state === "running") ?? false;
  const polls = useRef(0);
  const wasPending = useRef(false);
  useEffect(() => {
    if (wasPending.current && !pending) {
      loaded.reload();
      reports.reload();
    }
    wasPending.current = pending;
    if (!pending) {
      polls.current = 0;
      return;
    }
    const delay = Math.min(1500 * 2 ** Math.floor(polls.current / 5), 30_000);
    const timer = setTimeout(() => {
      if (document.hidden) return;
      polls.current += 1;
      jobs.reload();
    }, delay);
    const onVisible = () => !document.hidden && jobs.reload();
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [pending, jobs.data]);
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/projects">Projects</Link> / <Link to={to("projects", project)}>{project}</Link> /{" "}
        <Link to={`${to("projects", project)}?tab=monitoring`}>Monitoring</Link> / <span>{monitor}</span>
      </nav>
      <LoadState loading={loaded.loading && !m} error={loaded.error} />
      {m ? (
        <>
          <PageHeader title={m.name} sub={`Watches ${m.dataset}: ${m.checks.map((c) => String(c.kind)).join(", ")}`}>
            {allows(access, "monitor.manage") ? <Manage project={project} monitor={m} onChange={reloadAll} /> : null}
          </PageHeader>
          <Section title="Monitor">
            <Facts
              items={[
                ["Dataset", <Link key="Dataset" to={to("projects", project, "datasets", m.dataset)}>{m.dataset}</Link>],
                ["Reference", m.reference_version_id == null ? "—" : <VersionLink id={m.reference_version_id} />],
                ["Enabled", <span key="Enabled" className={`status ${m.enabled ? "status-pass" : ""}`}>{m.enabled ? "enabled" : "disabled"}</span>],
                ["On new version", m.on_new_version ? "yes" : "no"],
                ["Schedule", scheduleText(m)],
                ["Owner", m.owner],
                ["Last run", formatTime(m.last_run_at)],
                ["Next run", formatTime(m.next_run_at)],
                ["Created", `${formatTime(m.created_at)} by ${m.created_by}`],
                ["Updated", formatTime(m.updated_at)],
              ]}
            />
            <h3>Checks</h3>
            <Json value={m.checks} />
          </Section>
        </>
      ) : null}
      <Section title="Jobs" actions={<button type="button" onClick={jobs.reload}>Refresh</button>}>
        <LoadState loading={jobs.loading && !jobs.data} error={jobs.error} />
        <Truncated list={jobs.data} what="jobs" />
        {jobs.data ? (
          <div data-testid="jobs-table">
            <Table<JobResponse>
              caption="Jobs"
              rows={jobs.data.items}
              rowKey={(j) => String(j.id)}
              height={360}
              empty="No jobs yet."
              columns={[
                { key: "id", header: "Job", cell: (j) => `#${j.id}`, sort: (j) => j.id },
                { key: "state", header: "State", cell: (j) => <Status value={j.state} />, sort: (j) => j.state },
                { key: "trigger", header: "Trigger", cell: (j) => j.trigger, sort: (j) => j.trigger },
                {
                  key: "version",
                  header: "Version",
                  cell: (j) => (j.dataset_version_id == null ? "latest" : <VersionLink id={j.dataset_version_id} />),
                },
                { key: "attempts", header: "Attempts", className: "num", cell: (j) => `${j.attempts} / ${j.max_attempts}`, sort: (j) => j.attempts },
                { key: "error", header: "Error", cell: (j) => (j.error ? <span className="fail-text" title={j.error}>{j.error}</span> : "—") },
                {
                  key: "report",
                  header: "Report",
                  cell: (j) => (j.report_id == null ? "—" : <Link to={to("projects", project, "reports", j.report_id)}>#{j.report_id}</Link>),
                },
                { key: "by", header: "Queued by", cell: (j) => j.created_by, sort: (j) => j.created_by },
                { key: "created", header: "Queued", cell: (j) => formatTime(j.created_at), sort: (j) => j.created_at },
                { key: "finished", header: "Finished", cell: (j) => formatTime(j.finished_at), sort: (j) => j.finished_at },
              ]}
            />
          </div>
        ) : null}
      </Section>
      <Section title="Reports">
        <LoadState loading={reports.loading && !reports.data} error={reports.error} />
        {reports.data ? <ReportTable project={project} reports={reports.data.items} /> : null}
      </Section>
    </>
  );
}

function Manage({ project, monitor, onChange }: { project: string; monitor: MonitorResponse; onChange: () => void }) {
  const { error, busy, run, clear } = useAction();
  const [confirming, setConfirming] = useState(false);
  const [queued, setQueued] = useState<JobResponse | undefined>();
  const base = path`/projects/${project}/monitors/${monitor.name}`;
  const runNow = async () => {
    setQueued(undefined);
    const job = await run(() => api<JobResponse>("POST", `${base}/runs`, {}));
    if (job) {
      setQueued(job);
      onChange();
    }
  };
  const toggle = async () => {
    if (await run(() => api<MonitorResponse>("PATCH", base, { enabled: !monitor.enabled }))) onChange();
  };
  const remove = async () => {
    const done = await run(async () => {
      await api<void>("DELETE", base);
      return true;
    });
    if (done) navigate(`${to("projects", project)}?tab=monitoring`);
  };
  return (
    <div className="manage">
      <div className="actions">
        <button type="button" className="primary" onClick={() => void runNow()} disabled={busy} data-testid="monitor-run">
          Run now
        </button>
        <button type="button" onClick={() => void toggle()} disabled={busy} data-testid="monitor-toggle">
          {monitor.enabled ? "Disable" : "Enable"}
        </button>
        {confirming ? (
          <>
            <button type="button" className="danger" onClick={() => void remove()} disabled={busy}>
              Delete {monitor.name} with its jobs and alerts
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </>
        ) : (
          <button type="button" onClick={() => setConfirming(true)} data-testid="monitor-delete">
            Delete…
          </button>
        )}
      </div>
      <ErrorBanner error={error} onDismiss={clear} />
      {queued ? (
        <p className="notice" role="status">
          Job #{queued.id} queued: it is followed in the jobs below.
        </p>
      ) : null}
    </div>
  );
}
