// Differential privacy in the dashboard: ask a DP question of a dataset version (the answer,
// its noise and what it cost), and a dataset's budgets and ledger (docs/privacy.md).
import { useState, type FormEvent } from "react";
import { api, get, getAll, path } from "../api/client";
import type { BudgetResponse, BudgetsResponse, ChargeResponse, DpAnswer } from "../api/schema.gen";
import { formatNumber, formatTime } from "../lib/format";
import { dpQuery } from "../lib/privacy";
import { useAction, useLoad } from "../lib/hooks";
import { Table } from "./Table";
import { Choice, ErrorBanner, Field, Json, LoadState, Section, Truncated } from "./ui";

const KINDS = ["count", "mean", "sum", "histogram", "quantiles", "count_by"] as const;
const SCOPES = ["total", "each_user", "user"] as const;

/** The form that asks a DP question of one version, and its answer. */
export function DpQuestion({ project, dataset, version, columns }: { project: string; dataset: string; version: number; columns: string[] }) {
  const [kind, setKind] = useState<string>("count");
  const [column, setColumn] = useState(columns[0] ?? "");
  const [lower, setLower] = useState("0");
  const [upper, setUpper] = useState("100");
  const [extra, setExtra] = useState("");
  const [epsilon, setEpsilon] = useState("0.5");
  const [mechanism, setMechanism] = useState("laplace");
  const [delta, setDelta] = useState("0.000001");
  const [answer, setAnswer] = useState<DpAnswer | null>(null);
  const { error, busy, run } = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = {
      query: dpQuery(kind, column, lower, upper, extra),
      epsilon: Number(epsilon),
      mechanism,
      ...(mechanism === "gaussian" ? { delta: Number(delta) } : {}),
    };
    const got = await run(() => api<DpAnswer>("POST", path`/projects/${project}/datasets/${dataset}/versions/${version}/dp`, body));
    if (got) setAnswer(got);
  };
  const needsColumn = kind !== "count";
  const needsBounds = !["count", "count_by"].includes(kind);
  const extraLabel = kind === "count_by" ? "Categories (comma-separated)" : kind === "histogram" ? "Bins" : kind === "quantiles" ? "Probabilities (comma-separated)" : null;
  return (
    <Section title="Ask a differentially private question">
      <p className="muted">
        Only noisy figures leave the server, and each answer is charged to the dataset's privacy budget before it is made.
      </p>
      <form className="inline-form" onSubmit={submit} data-testid="dp-form">
        <ErrorBanner error={error} />
        <Field label="Question">
          <Choice value={kind} onChange={setKind} options={KINDS} />
        </Field>
        {needsColumn ? (
          <Field label="Column">
            <Choice value={column} onChange={setColumn} options={columns} />
          </Field>
        ) : null}
        {needsBounds ? (
          <>
            <Field label="Lower bound">
              <input value={lower} onChange={(e) => setLower(e.target.value)} inputMode="decimal" size={8} />
            </Field>
            <Field label="Upper bound">
              <input value={upper} onChange={(e) => setUpper(e.target.value)} inputMode="decimal" size={8} />
            </Field>
          </>
        ) : null}
        {extraLabel ? (
          <Field label={extraLabel}>
            <input value={extra} onChange={(e) => setExtra(e.target.value)} size={16} />
          </Field>
        ) : null}
        <Field label="Epsilon">
          <input value={epsilon} onChange={(e) => setEpsilon(e.target.value)} inputMode="decimal" size={6} />
        </Field>
        <Field label="Mechanism">
          <Choice value={mechanism} onChange={setMechanism} options={["laplace", "gaussian"]} />
        </Field>
        {mechanism === "gaussian" ? (
          <Field label="Delta">
            <input value={delta} onChange={(e) => setDelta(e.target.value)} inputMode="decimal" size={10} />
          </Field>
        ) : null}
        <button type="submit" className="primary" disabled={busy}>
          Ask
        </button>
      </form>
      {answer ? <DpAnswerView answer={answer} /> : null}
    </Section>
  );
}

function DpAnswerView({ answer }: { answer: DpAnswer }) {
  const release = answer.release as { kind?: string; value?: number; mechanism?: string; scale?: number };
  return (
    <div className="notice" data-testid="dp-answer" role="status">
      {release.value !== undefined ? (
        <p>
          <strong>
            {release.kind}: {formatNumber(release.value)}
          </strong>
        </p>
      ) : null}
      <p className="muted">
        {release.mechanism} noise, scale {formatNumber(release.scale ?? null)} · charged ε {formatNumber(answer.charge.epsilon)}
        {answer.charge.delta ? `, δ ${formatNumber(answer.charge.delta)}` : ""} · left to you: ε {formatNumber(answer.remaining_epsilon)}
        {answer.remaining_delta ? `, δ ${formatNumber(answer.remaining_delta)}` : ""}
      </p>
      {release.value === undefined ? <Json value={answer.release} /> : null}
    </div>
  );
}

/** A dataset's budgets (owners may set them) and ledger (owners and auditors). */
export function PrivacyBudgets({ project, dataset, mayManage }: { project: string; dataset: string; mayManage: boolean }) {
  const base = path`/projects/${project}/datasets/${dataset}/privacy`;
  const budgets = useLoad(() => get<BudgetsResponse>(`${base}/budgets`), [base]);
  const ledger = useLoad(() => getAll<ChargeResponse>(`${base}/ledger`, 2000), [base]);
  const reload = () => {
    budgets.reload();
    ledger.reload();
  };
  return (
    <Section title="Privacy budget">
      <LoadState loading={budgets.loading && !budgets.data} error={budgets.error} />
      {budgets.data ? (
        <div data-testid="budgets-table">
          <Table<BudgetResponse>
            caption="Privacy budgets"
            rows={budgets.data.items}
            rowKey={(b) => `${b.scope}/${b.user ?? ""}`}
            empty="No budget: no differentially private question can be answered."
            columns={[
              { key: "scope", header: "Scope", cell: (b) => (b.user ? `user ${b.user}` : b.scope) },
              { key: "epsilon", header: "ε spent / limit", className: "num", cell: (b) => `${formatNumber(b.spent_epsilon)} / ${formatNumber(b.epsilon)}` },
              { key: "delta", header: "δ spent / limit", className: "num", cell: (b) => `${formatNumber(b.spent_delta)} / ${formatNumber(b.delta)}` },
              { key: "updated", header: "Set by", cell: (b) => `${b.updated_by}, ${formatTime(b.updated_at)}` },
            ]}
          />
        </div>
      ) : null}
      {mayManage ? <SetBudget base={base} onSaved={reload} /> : null}
      <h3>Ledger</h3>
      <LoadState loading={ledger.loading && !ledger.data} error={ledger.error} />
      <Truncated list={ledger.data} what="charges" />
      {ledger.data ? (
        <div data-testid="ledger-table">
          <Table<ChargeResponse>
            caption="Privacy ledger"
            rows={ledger.data.items}
            rowKey={(c) => String(c.id)}
            empty="Nothing charged yet."
            columns={[
              { key: "id", header: "#", className: "num", cell: (c) => c.id, sort: (c) => c.id },
              { key: "at", header: "When (UTC)", cell: (c) => formatTime(c.created_at), sort: (c) => c.created_at },
              { key: "who", header: "Who", cell: (c) => c.principal, sort: (c) => c.principal },
              { key: "query", header: "Question", cell: (c) => <code>{JSON.stringify(c.query)}</code> },
              { key: "mechanism", header: "Mechanism", cell: (c) => c.mechanism },
              { key: "epsilon", header: "ε", className: "num", cell: (c) => formatNumber(c.epsilon), sort: (c) => c.epsilon },
              { key: "delta", header: "δ", className: "num", cell: (c) => formatNumber(c.delta) },
            ]}
          />
        </div>
      ) : null}
    </Section>
  );
}

function SetBudget({ base, onSaved }: { base: string; onSaved: () => void }) {
  const [scope, setScope] = useState<string>("total");
  const [user, setUser] = useState("");
  const [epsilon, setEpsilon] = useState("1");
  const [delta, setDelta] = useState("0");
  const { error, busy, run } = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = { scope, epsilon: Number(epsilon), delta: Number(delta), ...(scope === "user" ? { user } : {}) };
    const saved = await run(() => api<BudgetResponse>("PUT", `${base}/budgets`, body));
    if (saved) onSaved();
  };
  return (
    <form className="inline-form" onSubmit={submit} data-testid="set-budget">
      <ErrorBanner error={error} />
      <Field label="Scope">
        <Choice value={scope} onChange={setScope} options={SCOPES} />
      </Field>
      {scope === "user" ? (
        <Field label="User">
          <input value={user} onChange={(e) => setUser(e.target.value)} required />
        </Field>
      ) : null}
      <Field label="Epsilon limit">
        <input value={epsilon} onChange={(e) => setEpsilon(e.target.value)} inputMode="decimal" size={6} />
      </Field>
      <Field label="Delta limit">
        <input value={delta} onChange={(e) => setDelta(e.target.value)} inputMode="decimal" size={10} />
      </Field>
      <button type="submit" className="primary" disabled={busy}>
        Set budget
      </button>
    </form>
  );
}
