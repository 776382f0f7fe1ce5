// One webhook's delivery log: each event sent (or to send) with its state and attempts; a row
// opens to show every attempt and the exact payload.
import { Fragment, useState } from "react";
import { getAll, path } from "../api/client";
import type { DeliveryResponse, WebhookResponse } from "../api/schema.gen";
import { Empty, Facts, LoadState, PageHeader, Section, Status, Truncated } from "../components/ui";
import { formatDuration, formatTime } from "../lib/format";
import { useLoad } from "../lib/hooks";
import { prettyPayload } from "../lib/monitoring";
import { Link, to } from "../lib/router";

export function Webhook({ project, id }: { project: string; id: string }) {
  // There is no GET of one webhook: it is read from the project's list.
  const hooks = useLoad(() => getAll<WebhookResponse>(path`/projects/${project}/webhooks`), [project]);
  const deliveries = useLoad(
    () => getAll<DeliveryResponse>(path`/projects/${project}/webhooks/${id}/deliveries`, 2000),
    [project, id],
  );
  const hook = hooks.data?.items.find((w) => String(w.id) === id);
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/projects">Projects</Link> / <Link to={to("projects", project)}>{project}</Link> /{" "}
        <Link to={`${to("projects", project)}?tab=monitoring`}>Monitoring</Link> / <span>Webhook #{id}</span>
      </nav>
      <PageHeader title={`Webhook #${id}`} sub={hook ? hook.url : undefined} />
      <LoadState loading={hooks.loading && !hooks.data} error={hooks.error} />
      {hook ? (
        <Section title="Webhook">
          <Facts
            items={[
              ["URL", <code key="URL">{hook.url}</code>],
              ["Events", hook.events.join(", ")],
              ["Enabled", hook.enabled ? "yes" : "no"],
              ["Clearance", hook.clearance],
              ["Created by", hook.created_by],
              ["Created", formatTime(hook.created_at)],
            ]}
          />
        </Section>
      ) : null}
      {hooks.data && !hook ? <p className="empty">No webhook #{id} among this project's webhooks.</p> : null}
      <Section title="Deliveries" actions={<button type="button" onClick={deliveries.reload}>Refresh</button>}>
        <LoadState loading={deliveries.loading && !deliveries.data} error={deliveries.error} />
        <Truncated list={deliveries.data} what="deliveries" />
        {deliveries.data ? (
          deliveries.data.items.length ? (
            <Deliveries items={deliveries.data.items} />
          ) : (
            <Empty>No deliveries yet (or none about data you are cleared for).</Empty>
          )
        ) : null}
      </Section>
    </>
  );
}

function Deliveries({ items }: { items: DeliveryResponse[] }) {
  const [open, setOpen] = useState<Set<number>>(new Set());
  const toggle = (id: number) =>
    setOpen((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  return (
    <div className="table-box" data-testid="deliveries-table">
      <table>
        <caption className="visually-hidden">Deliveries, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Delivery</th>
            <th scope="col">Event</th>
            <th scope="col">State</th>
            <th scope="col" className="num">Attempts</th>
            <th scope="col" className="num">Last status</th>
            <th scope="col">Last error</th>
            <th scope="col">Created</th>
            <th scope="col">Delivered / next attempt</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => {
            const expanded = open.has(d.id);
            return (
              <Fragment key={d.id}>
                <tr className={expanded ? "selected" : undefined}>
                  <td>
                    <button
                      type="button"
                      className="link expander"
                      aria-expanded={expanded}
                      aria-controls={`delivery-${d.id}`}
                      onClick={() => toggle(d.id)}
                    >
                      <span aria-hidden="true">{expanded ? "▾" : "▸"}</span> #{d.id}
                    </button>
                  </td>
                  <td>{d.event}</td>
                  <td>
                    <Status value={d.state} />
                  </td>
                  <td className="num">{d.attempts}</td>
                  <td className="num">{d.last_status ?? "—"}</td>
                  <td className="wrap fail-text">{d.last_error ?? ""}</td>
                  <td>{formatTime(d.created_at)}</td>
                  <td>
                    {d.delivered_at
                      ? formatTime(d.delivered_at)
                      : d.state === "pending"
                        ? `next ${formatTime(d.next_attempt_at)}`
                        : "—"}
                  </td>
                </tr>
                {expanded ? (
                  <tr id={`delivery-${d.id}`} className="detail">
                    <td colSpan={8}>
                      <DeliveryDetail delivery={d} />
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function DeliveryDetail({ delivery }: { delivery: DeliveryResponse }) {
  return (
    <div className="delivery-detail">
      <div>
        <h3>Attempts</h3>
        {delivery.attempt_log.length ? (
          <table>
            <caption className="visually-hidden">Attempts of delivery #{delivery.id}</caption>
            <thead>
              <tr>
                <th scope="col" className="num">#</th>
                <th scope="col">At</th>
                <th scope="col" className="num">Status</th>
                <th scope="col" className="num">Took</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {delivery.attempt_log.map((a) => (
                <tr key={a.attempt}>
                  <td className="num">{a.attempt}</td>
                  <td>{formatTime(a.at)}</td>
                  <td className="num">{a.status ?? "—"}</td>
                  <td className="num">{formatDuration(a.duration_ms)}</td>
                  <td className="wrap">{a.error ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <Empty>Not attempted yet.</Empty>
        )}
      </div>
      <div>
        <h3>Payload</h3>
        <pre className="json">{prettyPayload(delivery.payload)}</pre>
      </div>
    </div>
  );
}
