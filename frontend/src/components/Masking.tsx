// A dataset's masking in the dashboard: which columns readers below its sensitivity see only
// as pseudonyms (`masked`) or not at all (`hidden`), and, for owners with clearance, the form
// that changes it (docs/privacy.md).
import { useState, type FormEvent } from "react";
import { api, get, path } from "../api/client";
import type { MaskingResponse } from "../api/schema.gen";
import { formatTime } from "../lib/format";
import { useAction, useLoad } from "../lib/hooks";
import { MASK_MODES, maskingBody, modesOf } from "../lib/privacy";
import { Table } from "./Table";
import { Choice, ErrorBanner, Field, LoadState, Section } from "./ui";

/** The masking of one dataset; `columns` are its latest version's, for the form. */
export function MaskingSection({
  project,
  dataset,
  columns,
  mayManage,
}: {
  project: string;
  dataset: string;
  columns: string[];
  mayManage: boolean;
}) {
  const url = path`/projects/${project}/datasets/${dataset}/masking`;
  const loaded = useLoad(() => get<MaskingResponse>(url), [url]);
  const m = loaded.data;
  return (
    <Section title="Masking">
      <p className="muted">
        Readers below the dataset's sensitivity see masked columns only as pseudonyms (equal values stay equal, so joins still
        work) and hidden columns not at all, in downloads and reports. Without masking they see none of its data.
      </p>
      <LoadState loading={loaded.loading && !m} error={loaded.error} />
      {m ? (
        <div data-testid="masking-table">
          <Table<MaskingResponse["columns"][number]>
            caption="Masked and hidden columns"
            rows={m.columns}
            rowKey={(c) => c.column}
            empty="Nothing is masked: readers below the sensitivity see none of the data."
            columns={[
              { key: "column", header: "Column", cell: (c) => <strong>{c.column}</strong>, sort: (c) => c.column },
              { key: "mode", header: "Shown as", cell: (c) => (c.mode === "masked" ? "pseudonyms" : "hidden"), sort: (c) => c.mode },
            ]}
          />
          {m.updated_by && m.updated_at ? (
            <p className="muted">
              Set by {m.updated_by}, {formatTime(m.updated_at)}.
            </p>
          ) : null}
        </div>
      ) : null}
      {mayManage && m ? <SetMasking url={url} columns={columns} current={m} onSaved={loaded.reload} /> : null}
    </Section>
  );
}

function SetMasking({
  url,
  columns,
  current,
  onSaved,
}: {
  url: string;
  columns: string[];
  current: MaskingResponse;
  onSaved: () => void;
}) {
  const [modes, setModes] = useState<Record<string, string>>(() => modesOf(columns, current.columns));
  const { error, busy, run } = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const saved = await run(() => api<MaskingResponse>("PUT", url, maskingBody(modes)));
    if (saved) onSaved();
  };
  if (columns.length === 0) return <p className="muted">Add a version first: masking names its columns.</p>;
  return (
    <form className="inline-form" onSubmit={submit} data-testid="set-masking">
      <ErrorBanner error={error} />
      {columns.map((column) => (
        <Field key={column} label={column}>
          <Choice value={modes[column] ?? "clear"} onChange={(mode) => setModes({ ...modes, [column]: mode })} options={MASK_MODES} />
        </Field>
      ))}
      <button type="submit" className="primary" disabled={busy}>
        Save masking
      </button>
    </form>
  );
}
