// A model's promotion gates in the dashboard (docs/promotion.md): the gates guarding its aliases
// (its own, or every model's), and for owners a form to set one (approvals, metric bounds, no
// open drift alert, training-data quality) or remove it; the server's refusal is shown as worded.
import { useState, type FormEvent } from "react";
import { api, get, path, query } from "../api/client";
import type { GateResponse, GatesResponse } from "../api/schema.gen";
import { gateRequirements, type MetricRow } from "../lib/compliance";
import { formatTime } from "../lib/format";
import { useAction, useLoad } from "../lib/hooks";
import { gatesFor } from "../lib/promotion";
import { Table } from "./Table";
import { ErrorBanner, Field, LoadState, Section } from "./ui";

export function GatesSection({ project, model, mayManage }: { project: string; model: string; mayManage: boolean }) {
  const gates = useLoad(() => get<GatesResponse>(path`/projects/${project}/gates`), [project]);
  const mine = gatesFor(gates.data?.items ?? [], model);
  const remove = useAction();
  const drop = async (g: GateResponse) => {
    const at = `${path`/projects/${project}/gates/${g.alias}`}${query({ model: g.model ?? undefined })}`;
    // 204: no body; success is the absence of an error.
    const done = await remove.run(async () => {
      await api("DELETE", at);
      return true;
    });
    if (done) gates.reload();
  };
  return (
    <Section title="Promotion gates">
      <LoadState loading={gates.loading && !gates.data} error={gates.error} />
      <ErrorBanner error={remove.error} />
      {gates.data ? (
        <div data-testid="gates-table">
          <Table<GateResponse>
            caption={`Gates on the aliases of ${model}`}
            rows={mine}
            rowKey={(g) => `${g.model ?? "*"}/${g.alias}`}
            empty="No gate guards this model's aliases: any maintainer may move them."
            columns={[
              { key: "alias", header: "Alias", cell: (g) => `@${g.alias}` },
              { key: "scope", header: "Of", cell: (g) => (g.model ? "this model" : "every model") },
              { key: "req", header: "Requirements", cell: (g) => <code>{JSON.stringify(g.requirements)}</code> },
              { key: "by", header: "Set by", cell: (g) => `${g.updated_by}, ${formatTime(g.updated_at)}` },
              ...(mayManage
                ? [
                    {
                      key: "remove",
                      header: "",
                      cell: (g: GateResponse) => (
                        <button type="button" className="danger" onClick={() => drop(g)} disabled={remove.busy}>
                          Remove
                        </button>
                      ),
                    },
                  ]
                : []),
            ]}
          />
        </div>
      ) : null}
      {mayManage ? <GateForm project={project} model={model} onDone={gates.reload} /> : null}
    </Section>
  );
}

const EMPTY_ROW: MetricRow = { dataset: "", metric: "", min: "", max: "" };

function GateForm({ project, model, onDone }: { project: string; model: string; onDone: () => void }) {
  const [alias, setAlias] = useState("production");
  const [approvals, setApprovals] = useState(1);
  const [metrics, setMetrics] = useState<MetricRow[]>([{ ...EMPTY_ROW }]);
  const [noOpenDriftAlert, setNoOpenDriftAlert] = useState(false);
  const [trainingDataQuality, setTrainingDataQuality] = useState(false);
  const { error, busy, run } = useAction();
  const setRow = (i: number, change: Partial<MetricRow>) =>
    setMetrics(metrics.map((m, j) => (j === i ? { ...m, ...change } : m)));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const requirements = gateRequirements({ approvals, metrics, noOpenDriftAlert, trainingDataQuality });
    if (await run(() => api<GateResponse>("PUT", path`/projects/${project}/gates`, { model, alias, requirements }))) onDone();
  };
  return (
    <details className="panel" data-testid="gate-form">
      <summary>Set a gate</summary>
      <form onSubmit={submit}>
        <ErrorBanner error={error} />
        <Field label="Alias">
          <input value={alias} onChange={(e) => setAlias(e.target.value)} required />
        </Field>
        <Field label="Approvals needed" hint="By approvers or owners who did not make the version (four eyes).">
          <input type="number" min={0} max={10} value={approvals} onChange={(e) => setApprovals(Number(e.target.value))} />
        </Field>
        {metrics.map((m, i) => (
          <fieldset key={i} className="inline-form">
            <legend>Evaluation metric {i + 1}</legend>
            <Field label="Dataset">
              <input value={m.dataset} onChange={(e) => setRow(i, { dataset: e.target.value })} />
            </Field>
            <Field label="Metric">
              <input value={m.metric} onChange={(e) => setRow(i, { metric: e.target.value })} placeholder="accuracy" />
            </Field>
            <Field label="At least">
              <input value={m.min} onChange={(e) => setRow(i, { min: e.target.value })} inputMode="decimal" size={6} />
            </Field>
            <Field label="At most">
              <input value={m.max} onChange={(e) => setRow(i, { max: e.target.value })} inputMode="decimal" size={6} />
            </Field>
          </fieldset>
        ))}
        <button type="button" onClick={() => setMetrics([...metrics, { ...EMPTY_ROW }])}>
          Add a metric bound
        </button>
        <label className="check">
          <input type="checkbox" checked={noOpenDriftAlert} onChange={(e) => setNoOpenDriftAlert(e.target.checked)} /> No open
          drift alert on its data
        </label>
        <label className="check">
          <input type="checkbox" checked={trainingDataQuality} onChange={(e) => setTrainingDataQuality(e.target.checked)} /> Its
          training data's quality suites pass
        </label>
        <button type="submit" className="primary" disabled={busy}>
          Save gate
        </button>
      </form>
    </details>
  );
}
