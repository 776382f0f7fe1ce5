// The folded "New …" form of a list page: a name, a description, optional extra fields, and
// the API's refusal shown as written. After creating, it goes to the new thing's page.
import { useState, type FormEvent, type ReactNode } from "react";
import { useAction } from "../lib/hooks";
import { navigate } from "../lib/router";
import { ErrorBanner, Field } from "./ui";

export function CreateNamed({
  summary,
  submitLabel,
  create,
  children,
  testId,
}: {
  /** The fold's title, e.g. "New project". */
  summary: string;
  /** The button, e.g. "Create project". */
  submitLabel: string;
  /** Creates it and returns the dashboard path of its page. */
  create: (fields: { name: string; description: string }) => Promise<string>;
  /** More fields, after the name and description. */
  children?: ReactNode;
  testId?: string;
}) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const { error, busy, run } = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const page = await run(() => create({ name, description }));
    if (page) navigate(page);
  };
  return (
    <details className="panel">
      <summary>{summary}</summary>
      <form onSubmit={submit} className="inline-form" data-testid={testId}>
        <ErrorBanner error={error} />
        <Field label="Name">
          <input value={name} onChange={(e) => setName(e.target.value)} required />
        </Field>
        <Field label="Description">
          <input value={description} onChange={(e) => setDescription(e.target.value)} size={40} />
        </Field>
        {children}
        <button type="submit" className="primary" disabled={busy}>
          {submitLabel}
        </button>
      </form>
    </details>
  );
}
