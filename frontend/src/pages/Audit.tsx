// The hash-chained audit trail: filtered, paged events with their details and hashes, an export
// of the same selection as JSON Lines, and (for those who may read all of it) a check of the
// whole chain. At /audit it is global; as a project tab the project is fixed.
import { Fragment, useState, type FormEvent } from "react";
import { get, query, type List } from "../api/client";
import type { AuditEventResponse, VerifyResponse } from "../api/schema.gen";
import { AuditExports } from "../components/Compliance";
import { ErrorBanner, Field, Json, LoadState, PageHeader, Section, Status } from "../components/ui";
import { auditParams, filterProblem, NO_FILTERS, type AuditFilters } from "../lib/audit";
import { formatNumber, formatTime, shortHash } from "../lib/format";
import { useAction, useLoad } from "../lib/hooks";
import { Link, to } from "../lib/router";
import { useGlobal } from "../lib/session";

const PAGE = 100;

export function Audit({ project }: { project?: string }) {
  const readAll = useGlobal("audit.read_all");
  const global = project === undefined;
  const [draft, setDraft] = useState<AuditFilters>({ ...NO_FILTERS, project: project ?? "" });
  const [applied, setApplied] = useState<AuditFilters>({ ...NO_FILTERS, project: project ?? "" });
  // Applying the same filters again loads them again.
  const [tick, setTick] = useState(0);
  const problem = filterProblem(draft);
  // Without audit.read_all, a project must be named (the server refuses otherwise).
  const needsProject = global && !readAll;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (problem) return;
    setApplied({ ...draft, project: project ?? draft.project });
    setTick((n) => n + 1);
  };
  const params = auditParams(applied);
  const ready = !(needsProject && !params.project);
  return (
    <>
      {global ? (
        <PageHeader
          title="Audit trail"
          sub="Every request that changed something or was refused, in a hash chain: each event's hash covers the one before."
        />
      ) : null}
      {readAll ? <VerifyChain /> : null}
      <form className="panel inline-form audit-filters" onSubmit={submit} aria-label="Audit filters">
        {global ? (
          <Field label={needsProject ? "Project (required)" : "Project"}>
            <input
              value={draft.project}
              onChange={(e) => setDraft({ ...draft, project: e.target.value })}
              required={needsProject}
              placeholder={needsProject ? "a project you audit" : "all"}
            />
          </Field>
        ) : null}
        <Field label="Actor">
          <input value={draft.actor} onChange={(e) => setDraft({ ...draft, actor: e.target.value })} placeholder="any" />
        </Field>
        <Field label="Action">
          <input
            value={draft.action}
            onChange={(e) => setDraft({ ...draft, action: e.target.value })}
            placeholder="e.g. model.alias"
          />
        </Field>
        <Field label="Outcome">
          <select value={draft.outcome} onChange={(e) => setDraft({ ...draft, outcome: e.target.value })}>
            <option value="">any</option>
            <option value="success">success</option>
            <option value="denied">denied</option>
            <option value="failure">failure</option>
          </select>
        </Field>
        <Field label="Since (UTC)">
          <input type="datetime-local" value={draft.since} onChange={(e) => setDraft({ ...draft, since: e.target.value })} />
        </Field>
        <Field label="Until (UTC)">
          <input type="datetime-local" value={draft.until} onChange={(e) => setDraft({ ...draft, until: e.target.value })} />
        </Field>
        <button type="submit" className="primary" disabled={Boolean(problem)} data-testid="audit-apply">
          Apply filters
        </button>
        <button
          type="button"
          onClick={() => {
            const clean = { ...NO_FILTERS, project: project ?? "" };
            setDraft(clean);
            setApplied(clean);
          }}
        >
          Clear
        </button>
        {ready ? (
          <a className="button" href={`/api/v1/audit/export${query(params)}`} download="audit.jsonl" data-testid="audit-export">
            Export JSON Lines
          </a>
        ) : null}
        {problem ? (
          <p className="error" role="alert">
            {problem}
          </p>
        ) : null}
      </form>
      {needsProject ? (
        <p className="notice">
          You may read the audit trail of the projects you own or audit: name one above (reading every project's events
          needs <code>audit.read_all</code>).
        </p>
      ) : null}
      {ready ? <Events key={`${tick}:${JSON.stringify(params)}`} params={params} showProject={global && !params.project} /> : null}
      {project !== undefined ? <AuditExports project={project} /> : null}
    </>
  );
}

/** The matching events, a page at a time. */
function Events({ params, showProject }: { params: Record<string, string | number | undefined>; showProject: boolean }) {
  const first = useLoad(() => get<List<AuditEventResponse>>(`/audit${query({ ...params, limit: PAGE })}`), []);
  const [more, setMore] = useState<AuditEventResponse[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const next = useAction();
  const [open, setOpen] = useState<Set<number>>(new Set());
  const events = [...(first.data?.items ?? []), ...more];
  const nextCursor = cursor === undefined ? first.data?.next_cursor : cursor;
  const loadMore = async () => {
    if (!nextCursor) return;
    const page = await next.run(() => get<List<AuditEventResponse>>(`/audit${query({ ...params, limit: PAGE, cursor: nextCursor })}`));
    if (page) {
      setMore((m) => [...m, ...page.items]);
      setCursor(page.next_cursor ?? null);
    }
  };
  const toggle = (seq: number) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(seq)) n.delete(seq);
      else n.add(seq);
      return n;
    });
  const columns = showProject ? 9 : 8;
  return (
    <Section
      title="Events"
      actions={<span className="muted">{events.length} shown, oldest first; ▸ opens an event's details and hashes</span>}
    >
      <LoadState loading={first.loading && !first.data} error={first.error} />
      {first.data && events.length === 0 ? <p className="empty">No events match these filters.</p> : null}
      {events.length ? (
        <div className="table-box">
          <table className="audit-table" data-testid="audit-table">
            <caption className="visually-hidden">Audit events</caption>
            <thead>
              <tr>
                <th scope="col">Seq</th>
                <th scope="col">Time (UTC)</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Resource</th>
                {showProject ? <th scope="col">Project</th> : null}
                <th scope="col">Outcome</th>
                <th scope="col">Client</th>
                <th scope="col">Request id</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <Fragment key={e.seq}>
                  <tr className={open.has(e.seq) ? "selected" : undefined}>
                    <td>
                      <button
                        type="button"
                        className="link seq"
                        aria-expanded={open.has(e.seq)}
                        aria-controls={`audit-details-${e.seq}`}
                        aria-label={`${open.has(e.seq) ? "Hide" : "Show"} details of event ${e.seq}`}
                        onClick={() => toggle(e.seq)}
                      >
                        <span aria-hidden="true">{open.has(e.seq) ? "▾" : "▸"}</span> {e.seq}
                      </button>
                    </td>
                    <td>{formatTime(e.at)}</td>
                    <td>{e.actor}</td>
                    <td>
                      <code>{e.action}</code>
                    </td>
                    <td className="resource" title={e.resource}>
                      {e.resource}
                    </td>
                    {showProject ? <td>{e.project ? <Link to={to("projects", e.project)}>{e.project}</Link> : "—"}</td> : null}
                    <td>
                      <Status value={e.outcome} />
                    </td>
                    <td>{e.client_addr ?? "—"}</td>
                    <td title={e.request_id ?? undefined}>{e.request_id ? <code>{shortHash(e.request_id, 8)}</code> : "—"}</td>
                  </tr>
                  {open.has(e.seq) ? (
                    <tr id={`audit-details-${e.seq}`} className="audit-details">
                      <td colSpan={columns}>
                        <div className="audit-details-body">
                          <dl className="facts">
                            <div>
                              <dt>Hash</dt>
                              <dd>
                                <code>{e.hash}</code>
                              </dd>
                            </div>
                            <div>
                              <dt>Previous hash</dt>
                              <dd>
                                <code>{e.prev_hash}</code>
                              </dd>
                            </div>
                            <div>
                              <dt>Request id</dt>
                              <dd>
                                <code>{e.request_id ?? "—"}</code>
                              </dd>
                            </div>
                            <div>
                              <dt>Project</dt>
                              <dd>{e.project ?? "—"}</dd>
                            </div>
                          </dl>
                          <Json value={e.details} />
                        </div>
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <ErrorBanner error={next.error} />
      {nextCursor ? (
        <p>
          <button type="button" onClick={() => void loadMore()} disabled={next.busy} data-testid="audit-more">
            {next.busy ? "Loading…" : "Load more"}
          </button>
        </p>
      ) : null}
    </Section>
  );
}

/** Recomputes every hash of the chain on the server and says whether it is intact. */
function VerifyChain() {
  const { error, busy, run } = useAction();
  const [result, setResult] = useState<VerifyResponse | null>(null);
  const verify = async () => {
    setResult(null);
    const answer = await run(() => get<VerifyResponse>("/audit/verify"));
    if (answer) setResult(answer);
  };
  return (
    <div className="panel verify">
      <div className="actions">
        <button type="button" className="primary" onClick={() => void verify()} disabled={busy} data-testid="verify-chain">
          {busy ? "Verifying…" : "Verify chain"}
        </button>
        <span className="muted">Recomputes every event's hash, from the first event to the head.</span>
      </div>
      <ErrorBanner error={error} />
      {result ? (
        result.intact ? (
          <div className="verify-result intact" role="status" data-testid="verify-result">
            <strong>✓ Chain intact</strong>
            <span>
              {formatNumber(result.checked)} event{result.checked === 1 ? "" : "s"} checked; head at sequence {result.head_seq}.
            </span>
          </div>
        ) : (
          <div className="verify-result broken" role="alert" data-testid="verify-result">
            <strong>✗ Chain broken</strong>
            <span>
              First broken event: sequence <strong>{result.first_broken ?? "?"}</strong> ({formatNumber(result.checked)} checked
              before it; head at {result.head_seq}).
            </span>
            {result.problem ? <span className="problem">{result.problem}</span> : null}
          </div>
        )
      ) : null}
    </div>
  );
}
