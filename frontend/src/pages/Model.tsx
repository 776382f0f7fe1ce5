// A registered model: its facts and tags, where its aliases point, its versions, and every move
// of every alias as a timeline. Maintainers set, move and delete aliases here; a refusal (e.g. a
// promotion gate) is shown as the server worded it.
import { useState, type FormEvent } from "react";
import { api, get, getAll, path } from "../api/client";
import type { AliasEventResponse, AliasResponse, ModelResponse, ModelVersionResponse } from "../api/schema.gen";
import { GatesSection } from "../components/Gates";
import { Table } from "../components/Table";
import { Empty, ErrorBanner, Facts, Field, LoadState, PageHeader, Section, Status } from "../components/ui";
import { aliasLanes, moveKind, type AliasLane } from "../lib/aliases";
import { formatTime, shortHash } from "../lib/format";
import { useAction, useLoad } from "../lib/hooks";
import { Link, to } from "../lib/router";
import { allows, useAccess } from "../lib/session";

export function Model({ project, model }: { project: string; model: string }) {
  const base = path`/projects/${project}/models/${model}`;
  const loaded = useLoad(() => get<ModelResponse>(base), [base]);
  const versions = useLoad(() => getAll<ModelVersionResponse>(`${base}/versions`), [base]);
  const history = useLoad(() => getAll<AliasEventResponse>(`${base}/alias-history`), [base]);
  const access = useAccess(project);
  const mayAlias = allows(access, "model.alias");
  const reload = () => {
    loaded.reload();
    versions.reload();
    history.reload();
  };
  const m = loaded.data;
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/projects">Projects</Link> / <Link to={to("projects", project)}>{project}</Link> /{" "}
        <Link to={`${to("projects", project)}?tab=models`}>Models</Link> / <span>{model}</span>
      </nav>
      <LoadState loading={loaded.loading && !m} error={loaded.error} />
      {m ? (
        <>
          <PageHeader title={m.name} sub={m.description || "No description."} />
          <Section title="About">
            <Facts
              items={[
                ["Project", <Link key="project" to={to("projects", project)}>{project}</Link>],
                ["Latest version", m.latest_version > 0 ? <Link key="latest" to={to("projects", project, "models", model, "versions", m.latest_version)}>v{m.latest_version}</Link> : "none yet"],
                ["Created by", m.created_by],
                ["Created", formatTime(m.created_at)],
                ["Updated", formatTime(m.updated_at)],
              ]}
            />
            <h3>Tags</h3>
            {m.tags.length ? (
              <ul className="chips" aria-label="Tags">
                {m.tags.map((t) => (
                  <li key={t.key} className="chip">
                    {t.key} = {t.value}
                  </li>
                ))}
              </ul>
            ) : (
              <Empty>No tags.</Empty>
            )}
          </Section>
          <Section title="Aliases">
            <CurrentAliases project={project} model={model} aliases={m.aliases} mayAlias={mayAlias} changed={reload} />
            {mayAlias ? (
              <SetAliasForm
                project={project}
                model={model}
                aliases={m.aliases}
                versions={versions.data?.items ?? []}
                changed={reload}
              />
            ) : null}
          </Section>
        </>
      ) : null}
      <Section title="Versions">
        <LoadState loading={versions.loading && !versions.data} error={versions.error} />
        {versions.data ? (
          <Table
            caption={`Versions of ${model}`}
            rows={versions.data.items}
            rowKey={(v) => String(v.version)}
            empty="No versions yet."
            columns={[
              {
                key: "version",
                header: "Version",
                className: "num",
                cell: (v) => <Link to={to("projects", project, "models", model, "versions", v.version)}>v{v.version}</Link>,
                sort: (v) => v.version,
              },
              { key: "status", header: "Status", cell: (v) => <Status value={v.status} />, sort: (v) => v.status },
              {
                key: "aliases",
                header: "Aliases",
                cell: (v) =>
                  v.aliases.length ? (
                    <span className="chips">
                      {v.aliases.map((a) => (
                        <span key={a} className="chip">
                          {a}
                        </span>
                      ))}
                    </span>
                  ) : (
                    "—"
                  ),
              },
              { key: "created_by", header: "Created by", cell: (v) => v.created_by, sort: (v) => v.created_by },
              { key: "created", header: "Created", cell: (v) => formatTime(v.created_at), sort: (v) => v.created_at },
              {
                key: "run",
                header: "Source run",
                cell: (v) =>
                  v.source_run_id ? (
                    <Link to={to("runs", v.source_run_id)} title={v.source_run_id}>
                      <code>{shortHash(v.source_run_id, 10)}</code>
                    </Link>
                  ) : (
                    "—"
                  ),
              },
              { key: "description", header: "Description", cell: (v) => v.description || "—" },
            ]}
          />
        ) : null}
      </Section>
      <GatesSection project={project} model={model} mayManage={allows(access, "gate.manage")} />
      <Section title="Alias history">
        <LoadState loading={history.loading && !history.data} error={history.error} />
        {history.data ? <AliasTimeline project={project} model={model} lanes={aliasLanes(history.data.items)} /> : null}
      </Section>
    </>
  );
}

function CurrentAliases({
  project,
  model,
  aliases,
  mayAlias,
  changed,
}: {
  project: string;
  model: string;
  aliases: AliasResponse[];
  mayAlias: boolean;
  changed: () => void;
}) {
  const { error, busy, run, clear } = useAction();
  const [confirming, setConfirming] = useState<string | null>(null);
  const remove = async (alias: string) => {
    setConfirming(null);
    const done = await run(async () => {
      await api("DELETE", path`/projects/${project}/models/${model}/aliases/${alias}`);
      return true;
    });
    if (done) changed();
  };
  if (aliases.length === 0) return <Empty>No aliases point at a version of this model.</Empty>;
  return (
    <>
      <ErrorBanner error={error} onDismiss={clear} />
      <Table
        caption={`Current aliases of ${model}`}
        rows={aliases}
        rowKey={(a) => a.alias}
        columns={[
          { key: "alias", header: "Alias", cell: (a) => <span className="chip">{a.alias}</span>, sort: (a) => a.alias },
          {
            key: "version",
            header: "Version",
            className: "num",
            cell: (a) => <Link to={to("projects", project, "models", model, "versions", a.version)}>v{a.version}</Link>,
            sort: (a) => a.version,
          },
          { key: "set_by", header: "Set by", cell: (a) => a.set_by, sort: (a) => a.set_by },
          { key: "set_at", header: "Set", cell: (a) => formatTime(a.set_at), sort: (a) => a.set_at },
          ...(mayAlias
            ? [
                {
                  key: "delete",
                  header: "",
                  cell: (a: AliasResponse) =>
                    confirming === a.alias ? (
                      <span className="actions">
                        <button type="button" className="danger" disabled={busy} onClick={() => void remove(a.alias)}>
                          Delete “{a.alias}”
                        </button>
                        <button type="button" onClick={() => setConfirming(null)}>
                          Keep
                        </button>
                      </span>
                    ) : (
                      <button type="button" onClick={() => setConfirming(a.alias)} data-testid={`delete-alias-${a.alias}`}>
                        Delete…
                      </button>
                    ),
                },
              ]
            : []),
        ]}
      />
    </>
  );
}

function SetAliasForm({
  project,
  model,
  aliases,
  versions,
  changed,
}: {
  project: string;
  model: string;
  aliases: AliasResponse[];
  versions: ModelVersionResponse[];
  changed: () => void;
}) {
  const [alias, setAlias] = useState("");
  const [version, setVersion] = useState("");
  const { error, busy, run, clear } = useAction();
  const [done, setDone] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setDone(null);
    const name = alias.trim();
    const answer = await run(() =>
      api<ModelVersionResponse>("PUT", path`/projects/${project}/models/${model}/aliases/${name}`, { version: Number(version) }),
    );
    if (answer) {
      setDone(`“${name}” now points at v${answer.version}.`);
      changed();
    }
  };
  const newest = [...versions].sort((a, b) => b.version - a.version);
  return (
    <form className="inline-form set-alias" onSubmit={submit} data-testid="set-alias">
      <Field label="Alias" hint="An existing alias moves; a new name is created.">
        <input
          value={alias}
          onChange={(e) => {
            setAlias(e.target.value);
            clear();
          }}
          list="alias-names"
          required
          placeholder="e.g. staging"
        />
      </Field>
      <datalist id="alias-names">
        {aliases.map((a) => (
          <option key={a.alias} value={a.alias}>{`now v${a.version}`}</option>
        ))}
      </datalist>
      <Field label="Version">
        <select
          value={version}
          onChange={(e) => {
            setVersion(e.target.value);
            clear();
          }}
          required
        >
          <option value="" disabled>
            Pick a version
          </option>
          {newest.map((v) => (
            <option key={v.version} value={v.version}>
              v{v.version} · {v.status}
              {v.aliases.length ? ` · ${v.aliases.join(", ")}` : ""}
            </option>
          ))}
        </select>
      </Field>
      <button type="submit" className="primary" disabled={busy || !alias.trim() || !version} data-testid="set-alias-submit">
        Set alias
      </button>
      {done ? (
        <p className="notice" role="status">
          {done}
        </p>
      ) : null}
      <ErrorBanner error={error} />
    </form>
  );
}

/** Every move of every alias, one vertical lane per alias, newest move at the top. */
function AliasTimeline({ project, model, lanes }: { project: string; model: string; lanes: AliasLane[] }) {
  if (lanes.length === 0) return <Empty>No alias has been set on this model yet.</Empty>;
  const version = (n: number | null | undefined) =>
    n === null || n === undefined ? null : <Link to={to("projects", project, "models", model, "versions", n)}>v{n}</Link>;
  return (
    <div className="alias-timeline" data-testid="alias-timeline">
      {lanes.map((lane) => (
        <section key={lane.alias} className="alias-lane" aria-label={`History of alias ${lane.alias}`} data-alias={lane.alias}>
          <h3>
            <span className="chip">{lane.alias}</span>{" "}
            <span className="muted">
              {lane.current === null ? "deleted" : <>now {version(lane.current)}</>} · {lane.events.length} move
              {lane.events.length === 1 ? "" : "s"}
            </span>
          </h3>
          <ol className="timeline">
            {lane.events.map((e) => {
              const kind = moveKind(e);
              return (
                <li key={e.id} className={`timeline-event ${kind}`}>
                  <div className="what">
                    {kind === "set" ? (
                      <>set to {version(e.new_version)}</>
                    ) : kind === "deleted" ? (
                      <>deleted (was {version(e.old_version)})</>
                    ) : (
                      <>
                        {version(e.old_version)} <span aria-label="to">→</span> {version(e.new_version)}
                      </>
                    )}
                  </div>
                  <div className="who muted">
                    by <strong>{e.actor}</strong> · <time dateTime={new Date(e.at).toISOString()}>{formatTime(e.at)}</time>
                  </div>
                </li>
              );
            })}
          </ol>
        </section>
      ))}
    </div>
  );
}
