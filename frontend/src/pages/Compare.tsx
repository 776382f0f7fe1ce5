// 2–10 runs side by side: one overlaid chart per metric any of them logged, their params with
// the differing ones first (or only those), and the latest value of every metric.
import { useMemo, useState } from "react";
import { get, path } from "../api/client";
import type { ExperimentResponse, RunResponse } from "../api/schema.gen";
import { MetricChart, type ChartRun } from "../components/MetricChart";
import { Empty, ErrorBanner, LoadState, PageHeader, Section, Status } from "../components/ui";
import { PALETTE } from "../lib/chart";
import { formatNumber } from "../lib/format";
import { useLoad } from "../lib/hooks";
import { Link, to } from "../lib/router";
import { COMPARE_MAX, COMPARE_MIN, compareIds, latestMetrics, paramDiff } from "../lib/runs";

export function Compare({ project, runs }: { project: string; runs: string[] }) {
  const ids = compareIds(runs);
  const inRange = ids.length >= COMPARE_MIN && ids.length <= COMPARE_MAX;
  const loaded = useLoad(
    () => (inRange ? Promise.all(ids.map((id) => get<RunResponse>(path`/runs/${id}`))) : Promise.resolve([])),
    [ids.join(",")],
  );
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/projects">Projects</Link> / <Link to={to("projects", project)}>{project}</Link> / <span>Compare runs</span>
      </nav>
      <PageHeader title="Compare runs" sub={inRange ? `${ids.length} runs` : undefined} />
      {!inRange ? (
        <p className="notice" role="status" data-testid="compare-range">
          Comparing takes {COMPARE_MIN} to {COMPARE_MAX} runs; this link names {ids.length}. Select runs on an{" "}
          <Link to={to("projects", project) + "?tab=experiments"}>experiment's page</Link> and press Compare.
        </p>
      ) : (
        <>
          <LoadState loading={loaded.loading && !loaded.data} error={loaded.error} />
          {loaded.data && loaded.data.length === ids.length ? <Comparison runs={loaded.data} /> : null}
        </>
      )}
    </>
  );
}

function Comparison({ runs }: { runs: RunResponse[] }) {
  const [onlyDiffs, setOnlyDiffs] = useState(false);
  const chartRuns: ChartRun[] = useMemo(
    () => runs.map((r, i) => ({ id: r.run_id, name: r.name, color: PALETTE[i % PALETTE.length] })),
    [runs],
  );
  const params = useMemo(() => paramDiff(runs), [runs]);
  const metrics = useMemo(() => latestMetrics(runs), [runs]);
  const differing = params.filter((p) => p.differs).length;
  // The experiments' names, for the runs table (one request per distinct experiment).
  const pairs = [...new Set(runs.map((r) => `${r.project}\u0000${r.experiment_id}`))];
  const experiments = useLoad(
    async () =>
      new Map(
        await Promise.all(
          pairs.map(async (pair) => {
            const [project, id] = pair.split("\u0000");
            const e = await get<ExperimentResponse>(path`/projects/${project}/experiments/${id}`);
            return [pair, e.name] as const;
          }),
        ),
      ),
    [pairs.join(",")],
  );
  const shownParams = onlyDiffs ? params.filter((p) => p.differs) : params;
  const head = (
    <tr>
      <th scope="col">Key</th>
      {runs.map((r, i) => (
        <th scope="col" key={r.run_id}>
          <span className="swatch" style={{ background: chartRuns[i].color }} aria-hidden="true" />
          <Link to={to("runs", r.run_id)} title={r.run_id}>
            {r.name}
          </Link>
        </th>
      ))}
    </tr>
  );
  return (
    <>
      <ErrorBanner error={experiments.error} />
      <div className="table-box compare-runs">
        <table>
          <caption className="visually-hidden">The compared runs</caption>
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Status</th>
              <th scope="col">Project / experiment</th>
              <th scope="col">Created by</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r, i) => (
              <tr key={r.run_id}>
                <td>
                  <span className="swatch" style={{ background: chartRuns[i].color }} aria-hidden="true" />
                  <Link to={to("runs", r.run_id)}>{r.name}</Link> <code className="muted">{r.run_id.slice(0, 8)}</code>
                </td>
                <td>
                  <Status value={r.status} />
                </td>
                <td>
                  <Link to={to("projects", r.project, "experiments", r.experiment_id)}>
                    {r.project} /{" "}
                    {experiments.data?.get(`${r.project}\u0000${r.experiment_id}`) ?? `experiment ${r.experiment_id}`}
                  </Link>
                </td>
                <td>{r.created_by}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Section title={`Metrics (${metrics.length})`}>
        {metrics.length === 0 ? (
          <Empty>None of these runs logged a metric.</Empty>
        ) : (
          <div className="grid metric-grid">
            {metrics.map((m) => (
              <MetricChart
                key={m.key}
                metric={m.key}
                runs={chartRuns.filter((_, i) => m.values[i] !== undefined)}
              />
            ))}
          </div>
        )}
      </Section>
      <Section
        title={`Params (${differing} of ${params.length} differ)`}
        actions={
          <label className="check">
            <input type="checkbox" checked={onlyDiffs} onChange={(e) => setOnlyDiffs(e.target.checked)} /> Only
            differences
          </label>
        }
      >
        {params.length === 0 ? (
          <Empty>None of these runs logged a param.</Empty>
        ) : shownParams.length === 0 ? (
          <Empty>Every param has the same value in all runs.</Empty>
        ) : (
          <div className="table-box" data-testid="param-diff">
            <table>
              <caption className="visually-hidden">Params of the compared runs; differing rows first</caption>
              <thead>{head}</thead>
              <tbody>
                {shownParams.map((p) => (
                  <tr key={p.key} className={p.differs ? "differs" : undefined}>
                    <th scope="row">
                      <code>{p.key}</code>
                      {p.differs ? <span className="visually-hidden"> (differs)</span> : null}
                    </th>
                    {p.values.map((v, i) => (
                      <td key={runs[i].run_id} title={v}>
                        {v ?? <span className="muted">not logged</span>}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <Section title="Latest metric values">
        {metrics.length === 0 ? (
          <Empty>None of these runs logged a metric.</Empty>
        ) : (
          <div className="table-box" data-testid="metric-values">
            <table>
              <caption className="visually-hidden">Latest value of each metric in each run</caption>
              <thead>{head}</thead>
              <tbody>
                {metrics.map((m) => (
                  <tr key={m.key}>
                    <th scope="row">
                      <code>{m.key}</code>
                    </th>
                    {m.values.map((v, i) => (
                      <td key={runs[i].run_id} className="num" title={v ? `step ${v.step}` : undefined}>
                        {v ? formatNumber(v.value) : <span className="muted">—</span>}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </>
  );
}
