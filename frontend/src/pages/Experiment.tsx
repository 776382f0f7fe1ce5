// One experiment: its runs in a big table (up to 20,000 loaded, windowed), filtered with the
// server's search language, sortable (on the server when not every run is loaded), with chosen
// metric/param/tag columns and a selection of 2–10 runs to compare.
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { api, ApiError, get, path, type List } from "../api/client";
import type { ExperimentResponse, RunResponse, SearchRunsRequest } from "../api/schema.gen";
import { sortRows, Table, type Column, type SortState } from "../components/Table";
import { ErrorBanner, Facts, Field, LoadState, PageHeader, Status } from "../components/ui";
import { markError } from "../lib/filter";
import { formatDuration, formatNumber, formatTime } from "../lib/format";
import { asApiError, useLoad } from "../lib/hooks";
import { Link, navigate, to } from "../lib/router";
import {
  columnId,
  COMPARE_MAX,
  COMPARE_MIN,
  defaultColumns,
  discoverKeys,
  filterErrorIndex,
  orderClause,
  parseColumnId,
  runRow,
  sortValue,
  type KeyKind,
  type RunKeys,
  type RunRow,
} from "../lib/runs";

/** The most runs the page loads (20 pages of 1000). */
const MAX_RUNS = 20_000;
const PAGE = 1000;
/** The server's own order: newest first. */
const DEFAULT_SORT: SortState = { key: "start_time", descending: true };

type View = "active_only" | "deleted_only" | "all";

export function Experiment({ project, experiment }: { project: string; experiment: string }) {
  const id = Number(experiment);
  const info = useLoad(
    () => get<ExperimentResponse>(path`/projects/${project}/experiments/${experiment}`),
    [project, experiment],
  );
  const name = info.data?.name ?? `Experiment ${experiment}`;
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/projects">Projects</Link> / <Link to={to("projects", project)}>{project}</Link> /{" "}
        <Link to={to("projects", project) + "?tab=experiments"}>Experiments</Link> / <span>{name}</span>
      </nav>
      <LoadState loading={info.loading && !info.data} error={info.error} />
      {info.data ? (
        <>
          <PageHeader title={info.data.name} sub={info.data.description || undefined} />
          <div className="panel">
            <Facts
              items={[
                ["Experiment id", info.data.id],
                ["Created by", info.data.created_by],
                ["Created (UTC)", formatTime(info.data.created_at)],
                ...(info.data.deleted_at ? ([["Deleted (UTC)", formatTime(info.data.deleted_at)]] as Array<[string, string]>) : []),
                ...info.data.tags
                  .filter((t) => !t.key.startsWith("mlflow."))
                  .slice(0, 6)
                  .map((t): [string, string] => [t.key, t.value]),
              ]}
            />
          </div>
        </>
      ) : null}
      {Number.isSafeInteger(id) ? (
        info.data ? <Runs key={`${project}/${id}`} project={project} experiment={id} /> : null
      ) : (
        <ErrorBanner error={new ApiError(0, "client_error", `'${experiment}' is not an experiment id`)} />
      )}
    </>
  );
}

/** The loaded runs of a search, page by page (the table fills while later pages load). */
type Search = { rows: RunRow[]; more: boolean; loading: boolean; error?: ApiError };

function useRunSearch(project: string, experiment: number, filter: string, view: View, order: string | null): Search {
  const key = JSON.stringify([project, experiment, filter, view, order]);
  // What has arrived, for the search named by `key` (older searches' rows stay until then).
  const [state, setState] = useState<{ key: string; rows: RunRow[]; more: boolean; done: boolean; error?: ApiError }>({
    key: "",
    rows: [],
    more: false,
    done: false,
  });
  useEffect(() => {
    let live = true;
    (async () => {
      const rows: RunRow[] = [];
      // Pages are offsets: a run created while pages load shifts later pages by one, so a run
      // can come twice. Each is kept once.
      const seen = new Set<string>();
      let cursor: string | null | undefined;
      do {
        const body: SearchRunsRequest = {
          experiment_ids: [experiment],
          limit: PAGE,
          view,
          ...(filter.trim() ? { filter } : {}),
          ...(order ? { order_by: [order] } : {}),
          ...(cursor ? { cursor } : {}),
        };
        const page = await api<List<RunResponse>>("POST", path`/projects/${project}/runs/search`, body);
        if (!live) return;
        for (const run of page.items) {
          if (seen.has(run.run_id)) continue;
          seen.add(run.run_id);
          rows.push(runRow(run));
        }
        cursor = page.next_cursor;
        const done = !cursor || rows.length >= MAX_RUNS;
        setState({ key, rows: rows.slice(), more: Boolean(cursor), done });
      } while (cursor && rows.length < MAX_RUNS);
    })().catch((err) => live && setState({ key, rows: [], more: false, done: true, error: asApiError(err) }));
    return () => {
      live = false;
    };
  }, [key, project, experiment, filter, view, order]);
  const current = state.key === key;
  return {
    rows: state.rows,
    more: state.more,
    loading: !current || !state.done,
    error: current ? state.error : undefined,
  };
}

function Runs({ project, experiment }: { project: string; experiment: number }) {
  const [draft, setDraft] = useState("");
  const [filter, setFilter] = useState("");
  const [view, setView] = useState<View>("active_only");
  const [sort, setSort] = useState<SortState>(DEFAULT_SORT);
  // The order the server sorts by; set only when a sort changes while not every run is loaded.
  const [serverSort, setServerSort] = useState<SortState>(null);
  const order = serverSort ? orderClause(serverSort.key, serverSort.descending) : null;
  const search = useRunSearch(project, experiment, filter, view, order);
  const complete = !search.more && !search.loading;
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [chosen, setChosen] = useState<string[] | null>(null);

  const keys = useMemo(() => discoverKeys(search.rows.map((r) => r.run)), [search.rows]);
  const shown = useMemo(() => chosen ?? defaultColumns(keys), [chosen, keys]);
  const sorted = useMemo(() => {
    // While runs are missing, the server's order is the order; sorting a prefix would mislead.
    if (search.more || !sort) return search.rows;
    const by: Column<RunRow> = { key: sort.key, header: "", cell: () => null, sort: (r) => sortValue(r, sort.key) };
    return sortRows(search.rows, [by], sort);
  }, [search.rows, search.more, sort]);

  const onSort = (next: SortState) => {
    setSort(next);
    if (search.more) setServerSort(next);
  };
  // A new search asks the server for the current order, in case it does not return every run.
  const orderable = (s: SortState) => (s && orderClause(s.key, s.descending) ? s : null);
  // The order the rows are in: the server's while runs are missing, else the chosen one.
  const tableSort = search.more ? (serverSort ?? DEFAULT_SORT) : sort;
  const columns = useMemo(
    () => runColumns(shown, selected, setSelected, search.more),
    [shown, selected, search.more],
  );
  const ids = [...selected];
  const mayCompare = ids.length >= COMPARE_MIN && ids.length <= COMPARE_MAX;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setFilter(draft.trim());
    setServerSort(orderable(sort));
  };
  const position = search.error?.status === 400 ? filterErrorIndex(filter, search.error.message) : null;

  return (
    <section className="section" aria-label="Runs">
      <div className="section-header">
        <h2>Runs</h2>
        <div className="actions">
          <span className="muted" aria-live="polite">
            {ids.length} selected
          </span>
          {ids.length ? (
            <button type="button" onClick={() => setSelected(new Set())}>
              Clear selection
            </button>
          ) : null}
          <button
            type="button"
            className="primary"
            data-testid="compare-button"
            disabled={!mayCompare}
            title={mayCompare ? undefined : `Select ${COMPARE_MIN} to ${COMPARE_MAX} runs to compare`}
            onClick={() =>
              navigate(to("projects", project, "compare") + "?runs=" + ids.map(encodeURIComponent).join(","))
            }
          >
            Compare{ids.length ? ` (${ids.length})` : ""}
          </button>
        </div>
      </div>
      <form className="inline-form runs-filter" onSubmit={submit} role="search">
        <Field label="Filter runs">
          <input
            className="mono"
            aria-describedby="runs-filter-hint"
            data-testid="filter-input"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            placeholder="metrics.accuracy > 0.9 and params.optimizer = 'adam'"
            spellCheck={false}
            autoComplete="off"
          />
        </Field>
        <button type="submit" className="primary">
          Apply filter
        </button>
        {filter ? (
          <button
            type="button"
            onClick={() => {
              setDraft("");
              setFilter("");
              setServerSort(orderable(sort));
            }}
          >
            Clear filter
          </button>
        ) : null}
        <Field label="Runs">
          <select
            value={view}
            onChange={(e) => {
              setView(e.target.value as View);
              setServerSort(orderable(sort));
            }}
          >
            <option value="active_only">Active</option>
            <option value="deleted_only">Deleted</option>
            <option value="all">All</option>
          </select>
        </Field>
      </form>
      <p className="hint runs-filter-hint" id="runs-filter-hint">
        MLflow search syntax plus OR and parentheses over <code>metrics.*</code>, <code>params.*</code>,{" "}
        <code>tags.*</code>, <code>attributes.*</code> and <code>datasets.*</code>; press Enter to apply.
      </p>
      {search.error ? (
        position !== null ? (
          <FilterError filter={filter} error={search.error} position={position} />
        ) : (
          <ErrorBanner error={search.error} />
        )
      ) : null}
      {search.error ? null : (
        <>
          <ColumnChooser keys={keys} shown={shown} onChange={setChosen} />
          <p className="muted runs-count" aria-live="polite">
            {search.loading
              ? `Loading runs… ${search.rows.length.toLocaleString()} so far`
              : `${search.rows.length.toLocaleString()} run${search.rows.length === 1 ? "" : "s"}${filter ? (search.rows.length === 1 ? " matches" : " match") + " the filter" : ""}`}
          </p>
        </>
      )}
      {search.more && !search.loading ? (
        <p className="notice" role="status">
          More than {MAX_RUNS.toLocaleString()} runs match: showing the first {MAX_RUNS.toLocaleString()}
          {serverSort && order ? ` by ${order}` : " (newest first)"}. Sorting asks the server again; narrow the filter
          to see the rest.
        </p>
      ) : null}
      {!search.error && (complete || search.rows.length > 0) ? (
        <div data-testid="runs-table">
          <Table
            caption="Runs of the experiment"
            rows={sorted}
            columns={columns}
            rowKey={(r) => r.run.run_id}
            sort={tableSort}
            onSort={onSort}
            selected={(r) => selected.has(r.run.run_id)}
            empty={filter ? "No runs match the filter." : "No runs in this experiment yet."}
          />
        </div>
      ) : null}
    </section>
  );
}

/** The runs table's columns: selection, the run's attributes, then the chosen key columns. */
function runColumns(
  shown: string[],
  selected: ReadonlySet<string>,
  setSelected: (s: ReadonlySet<string>) => void,
  partial: boolean,
): Array<Column<RunRow>> {
  const by = (key: string) => (r: RunRow) => sortValue(r, key);
  const toggle = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };
  const columns: Array<Column<RunRow>> = [
    {
      key: "select",
      header: <span className="visually-hidden">Select</span>,
      cell: (r) => (
        <input
          type="checkbox"
          aria-label={`Select run ${r.run.name}`}
          checked={selected.has(r.run.run_id)}
          onChange={(e) => toggle(r.run.run_id, e.target.checked)}
        />
      ),
    },
    {
      key: "name",
      header: "Name",
      cell: (r) => (
        <Link to={to("runs", r.run.run_id)} title={r.run.run_id}>
          {r.run.name}
        </Link>
      ),
      sort: by("name"),
    },
    { key: "status", header: "Status", cell: (r) => <Status value={r.run.status} />, sort: by("status") },
    { key: "start_time", header: "Started (UTC)", cell: (r) => formatTime(r.run.start_time), sort: by("start_time") },
    {
      key: "duration",
      header: "Duration",
      cell: (r) => formatDuration(r.duration),
      className: "num",
      // The server cannot order by duration: sortable only once every run is loaded.
      sort: partial ? undefined : by("duration"),
    },
    { key: "created_by", header: "Created by", cell: (r) => r.run.created_by, sort: by("created_by") },
  ];
  for (const id of shown) {
    const parsed = parseColumnId(id);
    if (!parsed) continue;
    const { kind, key } = parsed;
    const label = kind === "metrics" ? key : `${kind === "params" ? "param" : "tag"}: ${key}`;
    columns.push({
      key: id,
      header: <span title={`${kind}.${key}`}>{label}</span>,
      className: kind === "metrics" ? "num" : undefined,
      sort: by(id),
      cell:
        kind === "metrics"
          ? (r) => formatNumber(r.metrics.get(key))
          : (r) => {
              const value = r[kind].get(key);
              return value === undefined ? <span className="muted">—</span> : <span title={value}>{value}</span>;
            },
    });
  }
  return columns;
}

/** The server's message, and the filter with the character it points at marked. */
function FilterError({ filter, error, position }: { filter: string; error: ApiError; position: number }) {
  const { before, at, after } = markError(filter, position);
  const pad = " ".repeat([...before].length);
  return (
    <div className="filter-error" data-testid="filter-error">
      <ErrorBanner error={error} />
      <pre className="filter-mark" aria-label={`The filter, with position ${position} marked`}>
        {before}
        <mark>{at || " "}</mark>
        {after}
        {"\n"}
        <span aria-hidden="true">{pad}^</span>
      </pre>
    </div>
  );
}

const KIND_LABEL: Record<KeyKind, string> = { metrics: "Metrics", params: "Params", tags: "Tags" };

/** Checkboxes for every metric, param and tag key found in the loaded runs. */
function ColumnChooser({
  keys,
  shown,
  onChange,
}: {
  keys: RunKeys;
  shown: string[];
  onChange: (columns: string[] | null) => void;
}) {
  const on = new Set(shown);
  const total = keys.metrics.length + keys.params.length + keys.tags.length;
  const set = (id: string, checked: boolean) => {
    const next = shown.filter((c) => c !== id);
    onChange(checked ? [...next, id] : next);
  };
  return (
    <details className="panel column-chooser">
      <summary>
        Columns ({shown.length} of {total} keys shown)
      </summary>
      <div className="actions">
        <button type="button" onClick={() => onChange(null)}>
          Default columns
        </button>
        <button type="button" onClick={() => onChange([])}>
          Hide all
        </button>
      </div>
      <div className="chooser-groups">
        {(Object.keys(KIND_LABEL) as KeyKind[]).map((kind) => (
          <fieldset key={kind}>
            <legend>
              {KIND_LABEL[kind]} ({keys[kind].length})
            </legend>
            {keys[kind].length === 0 ? <p className="empty">None in the loaded runs.</p> : null}
            {keys[kind].map((key) => {
              const id = columnId(kind, key);
              return (
                <label key={id} className="check">
                  <input type="checkbox" checked={on.has(id)} onChange={(e) => set(id, e.target.checked)} /> {key}
                </label>
              );
            })}
          </fieldset>
        ))}
      </div>
    </details>
  );
}
