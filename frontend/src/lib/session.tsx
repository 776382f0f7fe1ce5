// Who is signed in, and what they may do: the dashboard offers only actions the server would
// allow (the server still decides every request).
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { ApiError, api, get, path, setCsrfToken, setOnUnauthenticated } from "../api/client";
import type { LoginResponse, ProjectAccess, WhoAmI } from "../api/schema.gen";
import { ErrorBanner } from "../components/ui";

type Session = {
  me: WhoAmI;
  signOut: () => Promise<void>;
  refresh: () => Promise<void>;
};

const SessionContext = createContext<Session | null>(null);

/** The signed-in user; only inside `<SessionProvider>` once signed in. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in page");
  return session;
}

/** Whether the caller may take a global action (`user.manage`, `policy.manage`, ...). */
export function useGlobal(action: string): boolean {
  return useSession().me.global_actions.includes(action);
}

/** Signs in; the server sets the session cookie. */
export async function signIn(username: string, password: string): Promise<void> {
  const answer = await api<LoginResponse>("POST", "/auth/login", { username, password });
  setCsrfToken(answer.csrf_token);
}

/**
 * Loads `GET /auth/me`; renders `signedOut` (the sign-in page) while nobody is signed in and
 * `children` once someone is.
 */
export function SessionProvider({
  children,
  signedOut,
}: {
  children: ReactNode;
  signedOut: (done: () => void) => ReactNode;
}) {
  const [me, setMe] = useState<WhoAmI | null | undefined>(undefined);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const refresh = async () => {
    try {
      const who = await get<WhoAmI>("/auth/me");
      setCsrfToken(who.csrf_token);
      setFailure(null);
      setMe(who);
    } catch (err) {
      // Only a 401 means "nobody is signed in"; anything else is shown as it is.
      if (err instanceof ApiError && err.status === 401) setMe(null);
      else setFailure(err instanceof ApiError ? err : new ApiError(0, "client_error", String(err)));
    }
  };
  useEffect(() => {
    setOnUnauthenticated(() => setMe(null));
    // The first question to the server: who is signed in.
    // oxlint-disable-next-line react/set-state-in-effect
    void refresh();
  }, []);
  if (failure) {
    return (
      <main className="signin" id="main">
        <div className="panel">
          <ErrorBanner error={failure} />
          <button type="button" onClick={() => void refresh()}>
            Try again
          </button>
        </div>
      </main>
    );
  }
  if (me === undefined) return <p className="loading">Loading…</p>;
  // After signing in, the page loads afresh: nothing cached for someone else survives.
  if (me === null) return <>{signedOut(() => window.location.reload())}</>;
  const signOut = async () => {
    try {
      if (me.credential === "session") await api("POST", "/auth/logout");
    } finally {
      setCsrfToken(null);
      window.location.assign("/ui/");
    }
  };
  return <SessionContext.Provider value={{ me, signOut, refresh }}>{children}</SessionContext.Provider>;
}

const accessCache = new Map<string, Promise<ProjectAccess>>();

/** Forgets cached project access (after a role change). */
export function forgetAccess(): void {
  accessCache.clear();
}

/** The caller's roles and actions in a project (`GET /projects/{p}/access`), cached. */
export function accessFor(project: string): Promise<ProjectAccess> {
  let pending = accessCache.get(project);
  if (!pending) {
    pending = get<ProjectAccess>(path`/projects/${project}/access`);
    accessCache.set(project, pending);
    pending.catch(() => accessCache.delete(project));
  }
  return pending;
}

/**
 * The caller's access in a project; until it is known (or when it cannot be read: the
 * project page shows that error) nothing is allowed.
 */
export function useAccess(project: string): ProjectAccess | undefined {
  const [access, setAccess] = useState<ProjectAccess | undefined>();
  useEffect(() => {
    let live = true;
    // oxlint-disable-next-line react/set-state-in-effect
    setAccess(undefined);
    accessFor(project).then(
      (a) => live && setAccess(a),
      () => live && setAccess({ project, roles: [], actions: [], own_actions: [] }),
    );
    return () => {
      live = false;
    };
  }, [project]);
  return access;
}

/**
 * Whether `access` allows `action` on something owned by `owner` (an owner-only rule counts
 * when the caller is that owner).
 */
export function allows(
  access: ProjectAccess | undefined,
  action: string,
  owner?: string,
  me?: string,
): boolean {
  if (!access) return false;
  if (access.actions.includes(action)) return true;
  return owner !== undefined && owner === me && access.own_actions.includes(action);
}
