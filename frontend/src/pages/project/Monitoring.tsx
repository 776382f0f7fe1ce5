// A project's monitoring: its monitors, its alerts (acknowledge or resolve them where allowed)
// and, for those who manage them, its webhooks (create one, its secret shown once; delete).
import { useState, type FormEvent } from "react";
import { api, getAll, path, query } from "../../api/client";
import type { AlertResponse, MonitorResponse, WebhookResponse } from "../../api/schema.gen";
import { Table } from "../../components/Table";
import { ErrorBanner, Field, LoadState, Section, Status, Truncated } from "../../components/ui";
import { formatTime } from "../../lib/format";
import { scheduleText } from "../../lib/monitoring";
import { useAction, useLoad } from "../../lib/hooks";
import { Link, to } from "../../lib/router";
import { allows, useAccess } from "../../lib/session";

export function ProjectMonitoring({ project }: { project: string }) {
  const access = useAccess(project);
  return (
    <>
      <Monitors project={project} />
      <Alerts project={project} mayUpdate={allows(access, "alert.update")} />
      {allows(access, "webhook.manage") ? <Webhooks project={project} /> : null}
    </>
  );
}

function Monitors({ project }: { project: string }) {
  const monitors = useLoad(() => getAll<MonitorResponse>(path`/projects/${project}/monitors`), [project]);
  return (
    <Section title="Monitors">
      <LoadState loading={monitors.loading && !monitors.data} error={monitors.error} />
      {monitors.data ? (
        <div data-testid="monitors-table">
          <Table<MonitorResponse>
            caption="Monitors"
            rows={monitors.data.items}
            rowKey={(m) => m.name}
            height={320}
            empty="No monitors yet (create them with the API or `verity`)."
            columns={[
              {
                key: "name",
                header: "Name",
                cell: (m) => <Link to={to("projects", project, "monitors", m.name)}>{m.name}</Link>,
                sort: (m) => m.name,
              },
              {
                key: "dataset",
                header: "Dataset",
                cell: (m) => <Link to={to("projects", project, "datasets", m.dataset)}>{m.dataset}</Link>,
                sort: (m) => m.dataset,
              },
              { key: "checks", header: "Checks", cell: (m) => m.checks.map((c) => String(c.kind ?? "?")).join(", ") },
              { key: "on_new", header: "On new version", cell: (m) => (m.on_new_version ? "yes" : "no") },
              { key: "schedule", header: "Schedule", cell: scheduleText, sort: (m) => m.interval_seconds },
              {
                key: "enabled",
                header: "Enabled",
                cell: (m) => <span className={`status ${m.enabled ? "status-pass" : ""}`}>{m.enabled ? "enabled" : "disabled"}</span>,
                sort: (m) => (m.enabled ? 1 : 0),
              },
              { key: "owner", header: "Owner", cell: (m) => m.owner, sort: (m) => m.owner },
              { key: "last", header: "Last run", cell: (m) => formatTime(m.last_run_at), sort: (m) => m.last_run_at },
              { key: "next", header: "Next run", cell: (m) => formatTime(m.next_run_at), sort: (m) => m.next_run_at },
            ]}
          />
        </div>
      ) : null}
    </Section>
  );
}

const STATES = ["all", "open", "acknowledged", "resolved"] as const;

function Alerts({ project, mayUpdate }: { project: string; mayUpdate: boolean }) {
  const [state, setState] = useState<(typeof STATES)[number]>("all");
  const alerts = useLoad(
    () => getAll<AlertResponse>(`${path`/projects/${project}/alerts`}${query({ state: state === "all" ? undefined : state })}`, 2000),
    [project, state],
  );
  const action = useAction();
  const act = async (alert: AlertResponse, verb: "acknowledge" | "resolve") => {
    const done = await action.run(() => api<AlertResponse>("POST", path`/projects/${project}/alerts/${alert.id}/${verb}`));
    if (done) alerts.reload();
  };
  return (
    <Section
      title="Alerts"
      actions={
        <Field label="State">
          <select value={state} onChange={(e) => setState(e.target.value as (typeof STATES)[number])} data-testid="alert-state">
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
      }
    >
      <ErrorBanner error={action.error} onDismiss={action.clear} />
      <LoadState loading={alerts.loading && !alerts.data} error={alerts.error} />
      <Truncated list={alerts.data} what="alerts" />
      {alerts.data ? (
        <div data-testid="alerts-table">
          <Table<AlertResponse>
            caption="Alerts"
            rows={alerts.data.items}
            rowKey={(a) => String(a.id)}
            height={400}
            empty={state === "all" ? "No alerts." : `No ${state} alerts.`}
            columns={[
              { key: "id", header: "Alert", cell: (a) => `#${a.id}`, sort: (a) => a.id },
              { key: "state", header: "State", cell: (a) => <Status value={a.state} />, sort: (a) => a.state },
              { key: "severity", header: "Severity", cell: (a) => <Status value={a.severity} />, sort: (a) => a.severity },
              {
                key: "monitor",
                header: "Monitor",
                cell: (a) => <Link to={to("projects", project, "monitors", a.monitor)}>{a.monitor}</Link>,
                sort: (a) => a.monitor,
              },
              { key: "summary", header: "Summary", className: "summary", cell: (a) => <span title={a.summary}>{a.summary}</span> },
              { key: "occurrences", header: "Times", className: "num", cell: (a) => a.occurrences, sort: (a) => a.occurrences },
              {
                key: "report",
                header: "Report",
                cell: (a) => <Link to={to("projects", project, "reports", a.last_report_id)}>#{a.last_report_id}</Link>,
              },
              { key: "opened", header: "Opened", cell: (a) => formatTime(a.opened_at), sort: (a) => a.opened_at },
              {
                key: "handled",
                header: "Handled by",
                cell: (a) =>
                  a.resolved_at ? (
                    <span title={`resolved ${formatTime(a.resolved_at)}`}>{a.resolved_by ?? "?"}</span>
                  ) : a.acknowledged_at ? (
                    <span title={`acknowledged ${formatTime(a.acknowledged_at)}`}>{a.acknowledged_by ?? "?"}</span>
                  ) : (
                    "—"
                  ),
                sort: (a) => a.updated_at,
              },
              ...(mayUpdate
                ? [
                    {
                      key: "actions",
                      header: "Actions",
                      cell: (a: AlertResponse) => (
                        <span className="row-actions">
                          {a.state === "open" ? (
                            <button
                              type="button"
                              onClick={() => void act(a, "acknowledge")}
                              disabled={action.busy}
                              aria-label="Acknowledge"
                              title={`Acknowledge alert #${a.id}`}
                            >
                              Acknowledge
                            </button>
                          ) : null}
                          {a.state !== "resolved" ? (
                            <button
                              type="button"
                              onClick={() => void act(a, "resolve")}
                              disabled={action.busy}
                              aria-label="Resolve"
                              title={`Resolve alert #${a.id}`}
                            >
                              Resolve
                            </button>
                          ) : null}
                        </span>
                      ),
                    },
                  ]
                : []),
            ]}
          />
        </div>
      ) : null}
    </Section>
  );
}

const EVENTS = ["alert.opened", "alert.resolved"] as const;

function Webhooks({ project }: { project: string }) {
  const hooks = useLoad(() => getAll<WebhookResponse>(path`/projects/${project}/webhooks`), [project]);
  const [confirm, setConfirm] = useState<number | null>(null);
  const remove = useAction();
  const del = async (id: number) => {
    const done = await remove.run(async () => {
      await api<void>("DELETE", path`/projects/${project}/webhooks/${id}`);
      return true;
    });
    setConfirm(null);
    if (done) hooks.reload();
  };
  return (
    <Section title="Webhooks">
      <NewWebhook project={project} onMade={hooks.reload} />
      <ErrorBanner error={remove.error} onDismiss={remove.clear} />
      <LoadState loading={hooks.loading && !hooks.data} error={hooks.error} />
      {hooks.data ? (
        <div data-testid="webhooks-table">
          <Table<WebhookResponse>
            caption="Webhooks"
            rows={hooks.data.items}
            rowKey={(w) => String(w.id)}
            height={320}
            empty="No webhooks."
            columns={[
              {
                key: "url",
                header: "URL",
                cell: (w) => <Link to={to("projects", project, "webhooks", w.id)}>{w.url}</Link>,
                sort: (w) => w.url,
              },
              { key: "events", header: "Events", cell: (w) => w.events.join(", ") },
              {
                key: "enabled",
                header: "Enabled",
                cell: (w) => <span className={`status ${w.enabled ? "status-pass" : ""}`}>{w.enabled ? "enabled" : "disabled"}</span>,
              },
              { key: "clearance", header: "Clearance", cell: (w) => w.clearance, sort: (w) => w.clearance },
              { key: "by", header: "Created by", cell: (w) => w.created_by, sort: (w) => w.created_by },
              { key: "at", header: "Created", cell: (w) => formatTime(w.created_at), sort: (w) => w.created_at },
              {
                key: "actions",
                header: "Actions",
                cell: (w) =>
                  confirm === w.id ? (
                    <span className="row-actions">
                      <button type="button" className="danger" onClick={() => void del(w.id)} disabled={remove.busy}>
                        Delete for good
                      </button>
                      <button type="button" onClick={() => setConfirm(null)}>
                        Cancel
                      </button>
                    </span>
                  ) : (
                    <button type="button" onClick={() => setConfirm(w.id)} aria-label={`Delete webhook ${w.url}`}>
                      Delete
                    </button>
                  ),
              },
            ]}
          />
        </div>
      ) : null}
    </Section>
  );
}

function NewWebhook({ project, onMade }: { project: string; onMade: () => void }) {
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<string[]>([...EVENTS]);
  const [made, setMade] = useState<WebhookResponse | undefined>();
  const { error, busy, run } = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setMade(undefined);
    const hook = await run(() => api<WebhookResponse>("POST", path`/projects/${project}/webhooks`, { url, events }));
    if (hook) {
      setMade(hook);
      setUrl("");
      onMade();
    }
  };
  const toggle = (name: string, on: boolean) =>
    setEvents((list) => (on ? [...list.filter((e) => e !== name), name] : list.filter((e) => e !== name)));
  return (
    <>
      <details className="panel">
        <summary>New webhook</summary>
        <form onSubmit={submit} className="inline-form">
          <Field label="URL">
            <input type="url" value={url} onChange={(e) => setUrl(e.target.value)} required size={44} placeholder="https://hooks.example.com/verity" />
          </Field>
          <fieldset className="events">
            <legend>Events</legend>
            {EVENTS.map((name) => (
              <label key={name} className="check">
                <input type="checkbox" checked={events.includes(name)} onChange={(e) => toggle(name, e.target.checked)} /> {name}
              </label>
            ))}
          </fieldset>
          <button type="submit" className="primary" disabled={busy || events.length === 0}>
            Create webhook
          </button>
          <ErrorBanner error={error} />
        </form>
      </details>
      {made?.secret ? (
        <div className="secret" role="status" data-testid="webhook-secret">
          <p>
            Webhook #{made.id} for <code>{made.url}</code> created. Its signing secret is shown this once: store it now.
          </p>
          <code>{made.secret}</code>{" "}
          <button type="button" onClick={() => setMade(undefined)}>
            I have stored it
          </button>
        </div>
      ) : null}
    </>
  );
}
