// A model version's promotion in the dashboard (docs/promotion.md): the verdict of every gate
// guarding the model's aliases, with unmet requirements; its reviews and a form to approve or
// reject (never one's own version: the server refuses and its message is shown); retiring it.
import { useState, type FormEvent } from "react";
import { api, get, path } from "../api/client";
import type { GatesResponse, RetirementResponse, ReviewResponse, ReviewsResponse, VerdictResponse } from "../api/schema.gen";
import { formatTime } from "../lib/format";
import { useAction, useLoad } from "../lib/hooks";
import { gatesFor } from "../lib/promotion";
import { Table } from "./Table";
import { Choice, Empty, ErrorBanner, Field, LoadState, Section } from "./ui";

type Props = {
  project: string;
  model: string;
  version: number;
  retired: boolean;
  mayReview: boolean;
  mayRetire: boolean;
  onChange: () => void;
};

export function PromotionSection({ project, model, version, retired, mayReview, mayRetire, onChange }: Props) {
  const base = path`/projects/${project}/models/${model}/versions/${version}`;
  const gates = useLoad(() => get<GatesResponse>(path`/projects/${project}/gates`), [project]);
  const reviews = useLoad(() => get<ReviewsResponse>(`${base}/reviews`), [base]);
  const mine = gatesFor(gates.data?.items ?? [], model);
  const [tick, setTick] = useState(0);
  const reviewed = () => {
    reviews.reload();
    setTick(tick + 1);
  };
  return (
    <Section title="Promotion">
      <LoadState loading={gates.loading && !gates.data} error={gates.error} />
      {gates.data && mine.length === 0 ? <Empty>No gate guards this model's aliases.</Empty> : null}
      {mine.map((g) => (
        <GateVerdict key={`${g.alias}/${tick}`} base={base} alias={g.alias} />
      ))}
      <h3>Reviews</h3>
      <LoadState loading={reviews.loading && !reviews.data} error={reviews.error} />
      {reviews.data ? (
        <div data-testid="reviews-table">
          <Table<ReviewResponse>
            caption={`Reviews of ${model} v${version}`}
            rows={reviews.data.items}
            rowKey={(r) => String(r.id)}
            empty="No review yet."
            columns={[
              { key: "alias", header: "Alias", cell: (r) => `@${r.alias}` },
              { key: "reviewer", header: "Reviewer", cell: (r) => r.reviewer },
              { key: "decision", header: "Decision", cell: (r) => r.decision },
              { key: "comment", header: "Comment", cell: (r) => r.comment },
              { key: "at", header: "When (UTC)", cell: (r) => formatTime(r.created_at) },
            ]}
          />
        </div>
      ) : null}
      {mayReview && !retired ? <ReviewForm base={base} aliases={mine.map((g) => g.alias)} onDone={reviewed} /> : null}
      {mayRetire && !retired ? <RetireForm base={base} onDone={onChange} /> : null}
    </Section>
  );
}

function GateVerdict({ base, alias }: { base: string; alias: string }) {
  const verdict = useLoad(() => get<VerdictResponse>(`${base}/gates/${encodeURIComponent(alias)}`), [base, alias]);
  const v = verdict.data;
  return (
    <div className="panel" data-testid={`gate-${alias}`}>
      <h3>
        Gate on @{alias}:{" "}
        {v ? (
          <span className={`status status-${v.satisfied ? "pass" : "fail"}`}>{v.satisfied ? "met" : "not met"}</span>
        ) : null}
      </h3>
      <LoadState loading={verdict.loading && !v} error={verdict.error} />
      {v ? (
        <Table<VerdictResponse["checks"][number]>
          caption={`Requirements of the gate on @${alias}`}
          rows={v.checks}
          rowKey={(c) => c.requirement}
          empty="The gate requires nothing."
          columns={[
            { key: "met", header: "Met", cell: (c) => (c.met ? "yes" : "no") },
            { key: "requirement", header: "Requirement", cell: (c) => c.requirement },
            { key: "detail", header: "Found", cell: (c) => c.detail },
          ]}
        />
      ) : null}
    </div>
  );
}

function ReviewForm({ base, aliases, onDone }: { base: string; aliases: string[]; onDone: () => void }) {
  const [alias, setAlias] = useState(aliases[0] ?? "");
  const [decision, setDecision] = useState("approve");
  const [comment, setComment] = useState("");
  const { error, busy, run } = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const made = await run(() => api<ReviewResponse>("POST", `${base}/reviews`, { alias: alias || aliases[0], decision, comment }));
    if (made) {
      setComment("");
      onDone();
    }
  };
  return (
    <form className="inline-form" onSubmit={submit} data-testid="review-form">
      <ErrorBanner error={error} />
      <Field label="Alias">
        {aliases.length ? (
          <Choice value={alias || aliases[0]} onChange={setAlias} options={aliases} />
        ) : (
          <input value={alias} onChange={(e) => setAlias(e.target.value)} required />
        )}
      </Field>
      <Field label="Decision">
        <Choice value={decision} onChange={setDecision} options={["approve", "reject"]} />
      </Field>
      <Field label="Comment">
        <input value={comment} onChange={(e) => setComment(e.target.value)} size={40} required />
      </Field>
      <button type="submit" className="primary" disabled={busy}>
        Submit review
      </button>
    </form>
  );
}

function RetireForm({ base, onDone }: { base: string; onDone: () => void }) {
  const [reason, setReason] = useState("");
  const { error, busy, run } = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const done = await run(() => api<RetirementResponse>("POST", `${base}/retire`, { reason }));
    if (done) onDone();
  };
  return (
    <details className="panel" data-testid="retire-form">
      <summary>Retire this version</summary>
      <form className="inline-form" onSubmit={submit}>
        <ErrorBanner error={error} />
        <Field label="Reason">
          <input value={reason} onChange={(e) => setReason(e.target.value)} size={40} required />
        </Field>
        <button type="submit" disabled={busy}>
          Retire
        </button>
      </form>
    </details>
  );
}
