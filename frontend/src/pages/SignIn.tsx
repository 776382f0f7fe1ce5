// The sign-in form: user name and password, the server's refusal shown as it wrote it.
import { useState, type FormEvent } from "react";
import { signIn } from "../lib/session";
import { useAction } from "../lib/hooks";
import { ErrorBanner, Field } from "../components/ui";

export function SignIn({ done }: { done: () => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const { error, busy, run } = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const ok = await run(async () => {
      await signIn(username, password);
      return true;
    });
    if (ok) done();
  };
  return (
    <main className="signin" id="main">
      <form onSubmit={submit} aria-label="Sign in">
        <h1>
          <span aria-hidden="true" className="logo">
            V
          </span>
          Sign in to Verity
        </h1>
        <ErrorBanner error={error} />
        <Field label="User name">
          <input
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
            autoFocus
          />
        </Field>
        <Field label="Password">
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </Field>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
