// Administration: user accounts (clearance, enabled state, new users), any user's API tokens,
// and the raw access rules (role permissions and role bindings). Each part shows only to those
// holding its global action.
import { useState, type FormEvent, type ReactNode } from "react";
import { api, get, getAll, path } from "../api/client";
import type { CreatedUser, PoliciesResponse, PolicyRuleResponse, UserResponse } from "../api/schema.gen";
import { Secret } from "../components/Secret";
import { Table } from "../components/Table";
import { TokenTable } from "../components/Tokens";
import { Choice, ErrorBanner, Field, LoadState, PageHeader, Section, Status, Tabs } from "../components/ui";
import { SENSITIVITIES } from "../lib/clearance";
import { formatTime } from "../lib/format";
import { useAction, useLoad } from "../lib/hooks";
import { ACTIONS, CONDITIONS, ROLES } from "../lib/roles";
import { Link } from "../lib/router";
import { useGlobal, useSession } from "../lib/session";

export function Admin() {
  const users = useGlobal("user.manage");
  const policies = useGlobal("policy.manage");
  const tabs: Array<{ id: string; label: string; panel: () => ReactNode }> = [];
  if (users) {
    tabs.push({ id: "users", label: "Users", panel: () => <Users /> });
    tabs.push({ id: "tokens", label: "API tokens", panel: () => <AnyonesTokens /> });
  }
  if (policies) tabs.push({ id: "policies", label: "Access rules", panel: () => <Policies /> });
  return (
    <>
      <PageHeader
        title="Administration"
        sub={
          <>
            Users, their API tokens and the access rules. A dataset's sensitivity is set on the dataset's own page (under{" "}
            <Link to="/projects">Projects</Link>); project roles on each project's Members tab.
          </>
        }
      />
      {tabs.length ? (
        <Tabs tabs={tabs} initial={new URLSearchParams(window.location.search).get("tab") ?? undefined} />
      ) : (
        <p className="notice">You may not manage users or access rules (that needs user.manage or policy.manage).</p>
      )}
    </>
  );
}

function Users() {
  const users = useLoad(() => getAll<UserResponse>("/users", 10_000), []);
  const { me } = useSession();
  const change = useAction();
  const update = async (name: string, body: { clearance?: string; disabled?: boolean }) => {
    if (await change.run(() => api<UserResponse>("PATCH", path`/users/${name}`, body))) users.reload();
  };
  return (
    <>
      <CreateUser created={users.reload} />
      <Section title="Users">
        <LoadState loading={users.loading && !users.data} error={users.error} />
        <ErrorBanner error={change.error} onDismiss={change.clear} />
        {users.data ? (
          <Table
            caption="Users"
            rows={users.data.items}
            rowKey={(u) => u.name}
            columns={[
              {
                key: "name",
                header: "Name",
                cell: (u) => (
                  <>
                    {u.name}
                    {u.name === me.username ? <span className="muted"> (you)</span> : null}
                  </>
                ),
                sort: (u) => u.name,
              },
              {
                key: "clearance",
                header: "Clearance",
                sort: (u) => SENSITIVITIES.indexOf(u.clearance as (typeof SENSITIVITIES)[number]),
                cell: (u) => (
                  <select
                    aria-label={`Clearance of ${u.name}`}
                    value={u.clearance}
                    disabled={change.busy}
                    onChange={(e) => void update(u.name, { clearance: e.target.value })}
                  >
                    {SENSITIVITIES.map((s) => (
                      <option key={s} value={s}>
                        {s}
                      </option>
                    ))}
                  </select>
                ),
              },
              {
                key: "state",
                header: "State",
                cell: (u) => <Status value={u.disabled ? "disabled" : "enabled"} />,
                sort: (u) => (u.disabled ? 1 : 0),
              },
              { key: "created_by", header: "Created by", cell: (u) => u.created_by, sort: (u) => u.created_by },
              { key: "created", header: "Created", cell: (u) => formatTime(u.created_at), sort: (u) => u.created_at },
              {
                key: "toggle",
                header: "",
                cell: (u) =>
                  u.name === me.username ? null : (
                    <button
                      type="button"
                      className={u.disabled ? undefined : "danger"}
                      disabled={change.busy}
                      onClick={() => void update(u.name, { disabled: !u.disabled })}
                      title={u.disabled ? undefined : "Ends the user's sessions and stops their tokens"}
                    >
                      {u.disabled ? "Enable" : "Disable"}
                    </button>
                  ),
              },
            ]}
          />
        ) : null}
      </Section>
    </>
  );
}

function CreateUser({ created }: { created: () => void }) {
  const [name, setName] = useState("");
  const [clearance, setClearance] = useState("internal");
  const [admin, setAdmin] = useState(false);
  const [password, setPassword] = useState("");
  const [secret, setSecret] = useState<{ user: string; password: string } | null>(null);
  const { error, busy, run } = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSecret(null);
    const answer = await run(() =>
      api<CreatedUser>("POST", "/users", { name: name.trim(), clearance, admin, password: password || null }),
    );
    if (answer) {
      if (answer.password) setSecret({ user: answer.user.name, password: answer.password });
      setName("");
      setPassword("");
      setAdmin(false);
      created();
    }
  };
  return (
    <>
      {secret ? (
        <Secret value={secret.password} title={`Password of ${secret.user}`} testId="new-password" onDone={() => setSecret(null)}>
          <p className="muted">The server generated it; it is not stored anywhere it can be read again.</p>
        </Secret>
      ) : null}
      <details className="panel">
        <summary>New user</summary>
        <form className="inline-form" onSubmit={submit} data-testid="create-user">
          <Field label="Name">
            <input value={name} onChange={(e) => setName(e.target.value)} required autoComplete="off" />
          </Field>
          <Field label="Clearance">
            <Choice value={clearance} onChange={setClearance} options={SENSITIVITIES} />
          </Field>
          <Field label="Password (optional)" hint="At least 12 characters; leave empty to have one generated.">
            <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />
          </Field>
          <label className="check">
            <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} /> Administrator
          </label>
          <button type="submit" className="primary" disabled={busy || !name.trim()}>
            Create user
          </button>
          <ErrorBanner error={error} />
        </form>
      </details>
    </>
  );
}

function AnyonesTokens() {
  const { me } = useSession();
  const users = useLoad(() => getAll<UserResponse>("/users", 10_000), []);
  const [user, setUser] = useState(me.username);
  return (
    <Section
      title={`API tokens of ${user}`}
      actions={
        <Field label="User">
          <select value={user} onChange={(e) => setUser(e.target.value)} data-testid="token-user">
            {(users.data?.items ?? [{ name: me.username } as UserResponse]).map((u) => (
              <option key={u.name} value={u.name}>
                {u.name}
              </option>
            ))}
          </select>
        </Field>
      }
    >
      <LoadState loading={false} error={users.error} />
      <TokenTable user={user} />
    </Section>
  );
}

function Policies() {
  const rules = useLoad(() => get<PoliciesResponse>("/policies"), []);
  const remove = useAction();
  const [confirming, setConfirming] = useState<number | null>(null);
  const [filter, setFilter] = useState<"" | "p" | "g">("");
  const [search, setSearch] = useState("");
  const drop = async (id: number) => {
    setConfirming(null);
    if (await remove.run(() => api<PolicyRuleResponse>("DELETE", path`/policies/${id}`))) rules.reload();
  };
  const needle = search.trim().toLowerCase();
  const shown = (rules.data?.items ?? []).filter(
    (r) => (!filter || r.ptype === filter) && (!needle || [r.v0, r.v1, r.v2].some((v) => v.toLowerCase().includes(needle))),
  );
  return (
    <>
      <AddRule added={rules.reload} />
      <Section
        title="Access rules"
        actions={
          <>
            <Field label="Search">
              <input value={search} onChange={(e) => setSearch(e.target.value)} placeholder="role, user, action, project" />
            </Field>
            <Field label="Show">
              <select value={filter} onChange={(e) => setFilter(e.target.value as "" | "p" | "g")}>
                <option value="">all rules</option>
                <option value="p">permissions (p)</option>
                <option value="g">role bindings (g)</option>
              </select>
            </Field>
          </>
        }
      >
        <p className="legend-note">
          <strong>p</strong> rules grant a role an action under a condition; <strong>g</strong> rules bind a user to a role in a
          project (<code>*</code>: everywhere, for admin). Changes take effect on the next request.
        </p>
        <LoadState loading={rules.loading && !rules.data} error={rules.error} />
        <ErrorBanner error={remove.error} onDismiss={remove.clear} />
        {rules.data ? (
          <Table
            caption="Access rules"
            rows={shown}
            rowKey={(r) => String(r.id)}
            empty={rules.data.items.length ? "No rule matches." : "No rules."}
            height={640}
            columns={[
              { key: "id", header: "Id", className: "num", cell: (r) => r.id, sort: (r) => r.id },
              { key: "ptype", header: "Type", cell: (r) => (r.ptype === "p" ? "p · permission" : "g · binding"), sort: (r) => r.ptype },
              { key: "v0", header: "Role / user", cell: (r) => r.v0, sort: (r) => r.v0 },
              { key: "v1", header: "Action / role", cell: (r) => <code>{r.v1}</code>, sort: (r) => r.v1 },
              {
                key: "v2",
                header: "Condition / project",
                cell: (r) => (r.ptype === "p" ? CONDITIONS.find(([c]) => c === r.v2)?.[1] ?? r.v2 : r.v2 === "*" ? "* (global)" : r.v2),
                sort: (r) => r.v2,
              },
              { key: "by", header: "Added by", cell: (r) => r.created_by, sort: (r) => r.created_by },
              { key: "at", header: "Added", cell: (r) => formatTime(r.created_at), sort: (r) => r.created_at },
              {
                key: "delete",
                header: "",
                cell: (r) =>
                  confirming === r.id ? (
                    <span className="actions">
                      <button type="button" className="danger" disabled={remove.busy} onClick={() => void drop(r.id)}>
                        Delete rule {r.id}
                      </button>
                      <button type="button" onClick={() => setConfirming(null)}>
                        Keep
                      </button>
                    </span>
                  ) : (
                    <button type="button" onClick={() => setConfirming(r.id)} data-testid={`delete-rule-${r.id}`}>
                      Delete…
                    </button>
                  ),
              },
            ]}
          />
        ) : null}
      </Section>
    </>
  );
}

function AddRule({ added }: { added: () => void }) {
  const [ptype, setPtype] = useState<"p" | "g">("p");
  const [v0, setV0] = useState("viewer");
  const [v1, setV1] = useState("");
  const [v2, setV2] = useState("");
  const { error, busy, run } = useAction();
  const switchType = (next: "p" | "g") => {
    setPtype(next);
    setV0(next === "p" ? "viewer" : "");
    setV1(next === "p" ? "" : "viewer");
    setV2("");
  };
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const rule = await run(() =>
      api<PolicyRuleResponse>("POST", "/policies", { ptype, v0: v0.trim(), v1: v1.trim(), v2: v2.trim() }),
    );
    if (rule) {
      if (ptype === "p") setV1("");
      else setV0("");
      added();
    }
  };
  return (
    <details className="panel">
      <summary>Add a rule</summary>
      <form className="inline-form" onSubmit={submit} data-testid="add-rule">
        <Field label="Type">
          <select value={ptype} onChange={(e) => switchType(e.target.value as "p" | "g")}>
            <option value="p">p: a role may take an action</option>
            <option value="g">g: a user holds a role</option>
          </select>
        </Field>
        {ptype === "p" ? (
          <>
            <Field label="Role">
              <Choice value={v0} onChange={setV0} options={ROLES} />
            </Field>
            <Field label="Action">
              <input value={v1} onChange={(e) => setV1(e.target.value)} list="rule-actions" required placeholder="e.g. model.alias or *" />
            </Field>
            <datalist id="rule-actions">
              {["*", ...ACTIONS].map((a) => (
                <option key={a} value={a} />
              ))}
            </datalist>
            <Field label="Condition">
              <select value={v2} onChange={(e) => setV2(e.target.value)}>
                {CONDITIONS.map(([c, label]) => (
                  <option key={c} value={c}>
                    {label}
                  </option>
                ))}
              </select>
            </Field>
          </>
        ) : (
          <>
            <Field label="User">
              <input value={v0} onChange={(e) => setV0(e.target.value)} required autoComplete="off" />
            </Field>
            <Field label="Role">
              <Choice value={v1} onChange={setV1} options={ROLES} />
            </Field>
            <Field label="Domain" hint="A project name, or * (admin only)">
              <input value={v2} onChange={(e) => setV2(e.target.value)} required placeholder={v1 === "admin" ? "*" : "project"} />
            </Field>
          </>
        )}
        <button type="submit" className="primary" disabled={busy}>
          Add rule
        </button>
        <ErrorBanner error={error} />
      </form>
    </details>
  );
}
