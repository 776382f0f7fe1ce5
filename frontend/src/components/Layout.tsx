// The frame around every page: who is signed in, the main navigation and sign-out.
import type { ReactNode } from "react";
import { Link, useLocation } from "../lib/router";
import { useGlobal, useSession } from "../lib/session";

export function Layout({ children }: { children: ReactNode }) {
  const { me, signOut } = useSession();
  const { path } = useLocation();
  const manageUsers = useGlobal("user.manage");
  const managePolicies = useGlobal("policy.manage");
  const auditAll = useGlobal("audit.read_all");
  const nav: Array<[string, string]> = [["/projects", "Projects"]];
  if (auditAll) nav.push(["/audit", "Audit trail"]);
  if (manageUsers || managePolicies) nav.push(["/admin", "Admin"]);
  nav.push(["/account", "My account"]);
  const role = me.admin ? "admin" : me.credential === "anonymous" ? "authentication off" : "user";
  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/projects" className="brand">
          <span aria-hidden="true" className="logo">
            V
          </span>
          Verity
        </Link>
        <nav aria-label="Main">
          {nav.map(([target, label]) => (
            <Link key={target} to={target} aria-current={path.startsWith(target) ? "page" : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <div className="who" data-testid="who">
          <span className="user">{me.username}</span>
          <span className="role" title={`clearance: ${me.clearance}`}>
            {role} · clearance {me.clearance}
          </span>
          {me.credential === "session" ? (
            <button type="button" onClick={() => void signOut()}>
              Sign out
            </button>
          ) : null}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
