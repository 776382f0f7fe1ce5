// The signed-in user: who the server thinks they are, their API tokens (create, with the secret
// shown once; revoke) and, for a dashboard session, changing their password.
import { useState, type FormEvent } from "react";
import { api, getAll } from "../api/client";
import type { CreatedToken, ProjectResponse } from "../api/schema.gen";
import { Secret } from "../components/Secret";
import { TokenTable } from "../components/Tokens";
import { ErrorBanner, Facts, Field, PageHeader, Section } from "../components/ui";
import { formatTime } from "../lib/format";
import { useAction, useLoad } from "../lib/hooks";
import { useSession } from "../lib/session";

export function Account() {
  const { me } = useSession();
  const [refresh, setRefresh] = useState(0);
  const reloadTokens = () => setRefresh((n) => n + 1);
  const limitedToken = me.credential === "token" && (me.token_read_only || Boolean(me.token_project));
  return (
    <>
      <PageHeader title="My account" sub="Who you are to the server, and your credentials." />
      <Section title="Who I am">
        <Facts
          items={[
            ["User name", me.username],
            ["Clearance", me.clearance],
            ["Administrator", me.admin ? "yes" : "no"],
            [
              "Signed in with",
              me.credential === "session"
                ? "a dashboard session"
                : me.credential === "token"
                  ? `an API token${me.token_project ? ` for project ${me.token_project}` : ""}${me.token_read_only ? ", read only" : ""}`
                  : "nothing: authentication is off",
            ],
            ["Global actions", me.global_actions.length ? me.global_actions.join(", ") : "none"],
          ]}
        />
      </Section>
      {me.credential !== "anonymous" ? (
        <Section title="API tokens">
          <p className="legend-note">
            Send a token as <code>Authorization: Bearer &lt;token&gt;</code> (MLflow clients: <code>MLFLOW_TRACKING_TOKEN</code>).
            Revoking a token also revokes the tokens it created.
          </p>
          <CreateToken created={reloadTokens} limited={limitedToken} />
          <TokenTable refresh={refresh} />
        </Section>
      ) : null}
      {me.credential === "session" ? <ChangePassword changed={reloadTokens} /> : null}
    </>
  );
}

function CreateToken({ created, limited }: { created: () => void; limited: boolean }) {
  const { me } = useSession();
  const projects = useLoad(() => getAll<ProjectResponse>("/projects", 5000), []);
  const [name, setName] = useState("");
  const [project, setProject] = useState(me.token_project ?? "");
  const [readOnly, setReadOnly] = useState(me.token_read_only);
  const [days, setDays] = useState("90");
  const [secret, setSecret] = useState<CreatedToken | null>(null);
  const { error, busy, run } = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSecret(null);
    const made = await run(() =>
      api<CreatedToken>("POST", "/tokens", {
        name: name.trim(),
        project: project || null,
        read_only: readOnly,
        expires_in_days: days.trim() ? Number(days) : null,
      }),
    );
    if (made) {
      setSecret(made);
      setName("");
      created();
    }
  };
  return (
    <>
      {secret ? (
        <Secret value={secret.token} title={`New token “${secret.name}”`} testId="new-token" onDone={() => setSecret(null)}>
          <p className="muted">
            {secret.project ? `Project ${secret.project} only` : "All your projects"} ·{" "}
            {secret.read_only ? "read only" : "read and write"} ·{" "}
            {secret.expires_at ? `expires ${formatTime(secret.expires_at)} UTC` : "never expires"}
          </p>
        </Secret>
      ) : null}
      <form className="panel inline-form" onSubmit={submit} data-testid="create-token" aria-label="Create an API token">
        <Field label="Name">
          <input value={name} onChange={(e) => setName(e.target.value)} required placeholder="e.g. ci" autoComplete="off" />
        </Field>
        <Field label="Project scope">
          <select value={project} onChange={(e) => setProject(e.target.value)} disabled={Boolean(me.token_project)}>
            <option value="">all my projects</option>
            {(projects.data?.items ?? []).map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Expires after (days)" hint="1 to 3650; empty: never">
          <input
            type="number"
            min={1}
            max={3650}
            value={days}
            onChange={(e) => setDays(e.target.value)}
            style={{ width: "7rem" }}
          />
        </Field>
        <label className="check">
          <input
            type="checkbox"
            checked={readOnly}
            onChange={(e) => setReadOnly(e.target.checked)}
            disabled={me.token_read_only}
          />{" "}
          Read only
        </label>
        <button type="submit" className="primary" disabled={busy || !name.trim()} data-testid="create-token-submit">
          Create token
        </button>
        {limited ? (
          <span className="hint muted">Signed in with a limited token: a new token cannot be wider than it.</span>
        ) : null}
        <ErrorBanner error={error ?? projects.error} />
      </form>
    </>
  );
}

function ChangePassword({ changed }: { changed: () => void }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [done, setDone] = useState(false);
  const { error, busy, run } = useAction();
  const mismatch = again.length > 0 && next !== again;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (mismatch) return;
    setDone(false);
    const ok = await run(async () => {
      await api("POST", "/auth/password", { current_password: current, new_password: next });
      return true;
    });
    if (ok) {
      setDone(true);
      setCurrent("");
      setNext("");
      setAgain("");
      changed();
    }
  };
  return (
    <Section title="Change my password">
      <p className="legend-note">
        Your other sessions end and all your API tokens are revoked; this session goes on.
      </p>
      <form onSubmit={submit} className="inline-form" data-testid="change-password">
        <Field label="Current password">
          <input type="password" value={current} onChange={(e) => setCurrent(e.target.value)} required autoComplete="current-password" />
        </Field>
        <Field label="New password" hint="At least 12 characters">
          <input
            type="password"
            value={next}
            onChange={(e) => setNext(e.target.value)}
            required
            minLength={12}
            autoComplete="new-password"
          />
        </Field>
        <Field label="New password again">
          <input
            type="password"
            value={again}
            onChange={(e) => setAgain(e.target.value)}
            required
            autoComplete="new-password"
            aria-invalid={mismatch}
          />
        </Field>
        <button type="submit" className="primary" disabled={busy || mismatch || !current || !next}>
          Change password
        </button>
        {mismatch ? (
          <p className="error" role="alert">
            The new passwords differ.
          </p>
        ) : null}
        {done ? (
          <p className="notice" role="status">
            Password changed. Your other sessions have ended and your API tokens are revoked.
          </p>
        ) : null}
        <ErrorBanner error={error} />
      </form>
    </Section>
  );
}
