// API tokens of one user (the caller's own when `user` is absent), with revocation.
import { useState } from "react";
import { api, getAll, path, query } from "../api/client";
import type { TokenResponse } from "../api/schema.gen";
import { formatTime } from "../lib/format";
import { useAction, useLoad } from "../lib/hooks";
import { Table } from "./Table";
import { ErrorBanner, LoadState, Status } from "./ui";

/** A token's state now: `revoked`, `expired` or `active`. */
function tokenState(t: TokenResponse, now = Date.now()): "revoked" | "expired" | "active" {
  if (t.revoked_at) return "revoked";
  if (t.expires_at && t.expires_at <= now) return "expired";
  return "active";
}

export function TokenTable({ user, refresh = 0 }: { user?: string; refresh?: number }) {
  const tokens = useLoad(() => getAll<TokenResponse>(`/tokens${query({ user })}`), [user, refresh]);
  const { error, busy, run, clear } = useAction();
  const [confirming, setConfirming] = useState<number | null>(null);
  const revoke = async (id: number) => {
    setConfirming(null);
    if (await run(() => api<TokenResponse>("DELETE", path`/tokens/${id}`))) tokens.reload();
  };
  return (
    <>
      <LoadState loading={tokens.loading && !tokens.data} error={tokens.error} />
      <ErrorBanner error={error} onDismiss={clear} />
      {tokens.data ? (
        <Table
          caption={user ? `API tokens of ${user}` : "Your API tokens"}
          rows={tokens.data.items}
          rowKey={(t) => String(t.id)}
          empty="No API tokens."
          columns={[
            { key: "name", header: "Name", cell: (t) => t.name, sort: (t) => t.name },
            { key: "prefix", header: "Starts with", cell: (t) => <code>{t.prefix}…</code> },
            { key: "state", header: "State", cell: (t) => <TokenState token={t} />, sort: (t) => tokenState(t) },
            { key: "project", header: "Project", cell: (t) => t.project ?? "all", sort: (t) => t.project ?? "" },
            { key: "access", header: "Access", cell: (t) => (t.read_only ? "read only" : "read and write") },
            { key: "created", header: "Created", cell: (t) => formatTime(t.created_at), sort: (t) => t.created_at },
            { key: "expires", header: "Expires", cell: (t) => (t.expires_at ? formatTime(t.expires_at) : "never"), sort: (t) => t.expires_at },
            {
              key: "revoke",
              header: "",
              cell: (t) =>
                t.revoked_at ? (
                  <span className="muted">revoked {formatTime(t.revoked_at)}</span>
                ) : confirming === t.id ? (
                  <span className="actions">
                    <button type="button" className="danger" disabled={busy} onClick={() => void revoke(t.id)}>
                      Revoke “{t.name}”
                    </button>
                    <button type="button" onClick={() => setConfirming(null)}>
                      Keep
                    </button>
                  </span>
                ) : (
                  <button type="button" onClick={() => setConfirming(t.id)} data-testid={`revoke-token-${t.id}`}>
                    Revoke…
                  </button>
                ),
            },
          ]}
        />
      ) : null}
    </>
  );
}

function TokenState({ token }: { token: TokenResponse }) {
  return <Status value={tokenState(token)} />;
}
