// A project's members and their roles; owners (and administrators) grant, change and revoke
// roles here.
import { useState, type FormEvent } from "react";
import { api, get, getAll, path } from "../../api/client";
import type { Member, MembersResponse, UserResponse } from "../../api/schema.gen";
import { Table } from "../../components/Table";
import { Choice, ErrorBanner, Field, LoadState } from "../../components/ui";
import { useAction, useLoad } from "../../lib/hooks";
import { PROJECT_ROLES, ROLE_HINTS } from "../../lib/roles";
import { allows, forgetAccess, useAccess, useGlobal, useSession } from "../../lib/session";

export function ProjectMembers({ project }: { project: string }) {
  const members = useLoad(() => get<MembersResponse>(path`/projects/${project}/members`), [project]);
  const access = useAccess(project);
  const manage = allows(access, "project.manage_members");
  const { me, refresh } = useSession();
  const action = useAction();
  const [confirming, setConfirming] = useState<string | null>(null);
  const changed = () => {
    forgetAccess();
    members.reload();
    // Our own roles may have changed: the session's view of what we may do follows.
    void refresh();
  };
  const setRole = async (user: string, role: string) => {
    if (await action.run(() => api<Member>("PUT", path`/projects/${project}/members/${user}`, { role }))) changed();
  };
  const revoke = async (user: string) => {
    setConfirming(null);
    const done = await action.run(async () => {
      await api("DELETE", path`/projects/${project}/members/${user}`);
      return true;
    });
    if (done) changed();
  };
  return (
    <>
      {manage ? <AddMember project={project} added={changed} /> : null}
      <LoadState loading={members.loading && !members.data} error={members.error} />
      <ErrorBanner error={action.error} onDismiss={action.clear} />
      {members.data ? (
        <Table
          caption={`Members of ${project}`}
          rows={members.data.items}
          rowKey={(m) => `${m.user}:${m.role}`}
          empty="No members: only global rules (administrators) give access here."
          columns={[
            {
              key: "user",
              header: "User",
              cell: (m) => (
                <>
                  {m.user}
                  {m.user === me.username ? <span className="muted"> (you)</span> : null}
                </>
              ),
              sort: (m) => m.user,
            },
            {
              key: "role",
              header: "Role",
              sort: (m) => PROJECT_ROLES.indexOf(m.role as (typeof PROJECT_ROLES)[number]),
              cell: (m) =>
                manage ? (
                  <select
                    aria-label={`Role of ${m.user}`}
                    value={m.role}
                    disabled={action.busy}
                    onChange={(e) => void setRole(m.user, e.target.value)}
                  >
                    {PROJECT_ROLES.map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </select>
                ) : (
                  m.role
                ),
            },
            { key: "means", header: "May", cell: (m) => <span className="muted">{ROLE_HINTS[m.role] ?? ""}</span> },
            ...(manage
              ? [
                  {
                    key: "revoke",
                    header: "",
                    cell: (m: Member) =>
                      confirming === m.user ? (
                        <span className="actions">
                          <button type="button" className="danger" disabled={action.busy} onClick={() => void revoke(m.user)}>
                            Revoke {m.user}
                          </button>
                          <button type="button" onClick={() => setConfirming(null)}>
                            Keep
                          </button>
                        </span>
                      ) : (
                        <button type="button" onClick={() => setConfirming(m.user)} data-testid={`revoke-${m.user}`}>
                          Revoke…
                        </button>
                      ),
                  },
                ]
              : []),
          ]}
        />
      ) : null}
    </>
  );
}

function AddMember({ project, added }: { project: string; added: () => void }) {
  const [user, setUser] = useState("");
  const [role, setRole] = useState<string>("viewer");
  const { error, busy, run } = useAction();
  // Administrators can pick from the users; others type the name.
  const listUsers = useGlobal("user.manage");
  const users = useLoad(
    () => (listUsers ? getAll<UserResponse>("/users", 5000) : Promise.resolve({ items: [], truncated: false })),
    [listUsers],
  );
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const name = user.trim();
    if (await run(() => api<Member>("PUT", path`/projects/${project}/members/${name}`, { role }))) {
      setUser("");
      added();
    }
  };
  return (
    <form className="panel inline-form" onSubmit={submit} data-testid="add-member" aria-label="Grant a role">
      <Field label="User">
        <input value={user} onChange={(e) => setUser(e.target.value)} list="member-users" required autoComplete="off" />
      </Field>
      <datalist id="member-users">
        {(users.data?.items ?? []).map((u) => (
          <option key={u.name} value={u.name} />
        ))}
      </datalist>
      <Field label="Role">
        <Choice value={role} onChange={setRole} options={PROJECT_ROLES} />
      </Field>
      <button type="submit" className="primary" disabled={busy || !user.trim()}>
        Grant role
      </button>
      <span className="hint muted">{ROLE_HINTS[role]}</span>
      <ErrorBanner error={error} />
    </form>
  );
}
