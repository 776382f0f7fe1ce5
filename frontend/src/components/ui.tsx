// Small building blocks every page uses.
import { cloneElement, useId, useState, type ReactElement, type ReactNode } from "react";
import type { ApiError } from "../api/client";

/** The API's error, as the server wrote it (never swallowed). */
export function ErrorBanner({ error, onDismiss }: { error?: ApiError; onDismiss?: () => void }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      <strong>{error.status ? `Error ${error.status}` : "Error"}</strong>
      {error.code && error.code !== "http_error" ? <code className="code">{error.code}</code> : null}
      <span className="message">{error.message}</span>
      {onDismiss ? (
        <button type="button" className="link" onClick={onDismiss} aria-label="Dismiss error">
          ×
        </button>
      ) : null}
    </div>
  );
}

/** A page's title line, with optional actions on the right. */
export function PageHeader({ title, sub, children }: { title: ReactNode; sub?: ReactNode; children?: ReactNode }) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {sub ? <p className="sub">{sub}</p> : null}
      </div>
      {children ? <div className="actions">{children}</div> : null}
    </header>
  );
}

/** A titled section of a page. */
export function Section({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="section" aria-label={title}>
      <div className="section-header">
        <h2>{title}</h2>
        {actions ? <div className="actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}

/** Label/value pairs. */
export function Facts({ items }: { items: Array<[string, ReactNode]> }) {
  return (
    <dl className="facts">
      {items.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value ?? "—"}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A coloured status word: pass, warn, fail, error, open, resolved, ... */
export function Status({ value }: { value: string }) {
  return <span className={`status status-${value.toLowerCase()}`}>{value}</span>;
}

/** A loading line or the error of a load, else nothing. */
export function LoadState({ loading, error }: { loading: boolean; error?: ApiError }) {
  if (error) return <ErrorBanner error={error} />;
  if (loading) return <p className="loading">Loading…</p>;
  return null;
}

/** Tabs that switch panels, reachable by keyboard (arrow keys move between tabs). */
export function Tabs({ tabs, initial }: { tabs: Array<{ id: string; label: string; panel: () => ReactNode }>; initial?: string }) {
  const [active, setActive] = useState(initial ?? tabs[0]?.id);
  const current = tabs.find((t) => t.id === active) ?? tabs[0];
  return (
    <div className="tabs">
      <div role="tablist" aria-label="Sections">
        {tabs.map((tab, i) => (
          <button
            key={tab.id}
            role="tab"
            type="button"
            id={`tab-${tab.id}`}
            aria-selected={tab.id === current?.id}
            aria-controls={`panel-${tab.id}`}
            tabIndex={tab.id === current?.id ? 0 : -1}
            onClick={() => setActive(tab.id)}
            onKeyDown={(e) => {
              const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
              if (!step) return;
              const next = tabs[(i + step + tabs.length) % tabs.length];
              setActive(next.id);
              document.getElementById(`tab-${next.id}`)?.focus();
            }}
          >
            {tab.label}
          </button>
        ))}
      </div>
      {current ? (
        <div role="tabpanel" id={`panel-${current.id}`} aria-labelledby={`tab-${current.id}`}>
          {current.panel()}
        </div>
      ) : null}
    </div>
  );
}

/** A labelled form field; a hint is tied to the control as its description. */
export function Field({ label, children, hint }: { label: string; children: ReactElement<{ "aria-describedby"?: string }>; hint?: string }) {
  const hintId = useId();
  return (
    <div className="field">
      <label className="field-label">
        <span className="label">{label}</span>
        {hint ? cloneElement(children, { "aria-describedby": children.props["aria-describedby"] ?? hintId }) : children}
      </label>
      {hint ? (
        <span className="hint" id={hintId}>
          {hint}
        </span>
      ) : null}
    </div>
  );
}

/** A drop-down of plain string options (use inside a `Field` for its label). */
export function Choice({
  value,
  onChange,
  options,
  "aria-describedby": describedBy,
}: {
  value: string;
  onChange: (value: string) => void;
  options: readonly string[];
  "aria-describedby"?: string;
}) {
  return (
    <select value={value} onChange={(e) => onChange(e.target.value)} aria-describedby={describedBy}>
      {options.map((option) => (
        <option key={option} value={option}>
          {option}
        </option>
      ))}
    </select>
  );
}

/** A JSON value, pretty-printed. */
export function Json({ value }: { value: unknown }) {
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

/** Shown where a list is empty. */
export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** Says that a list shows only its first items (the API had more than the page reads). */
export function Truncated({ list, what }: { list?: { items: unknown[]; truncated: boolean }; what: string }) {
  if (!list?.truncated) return null;
  return (
    <p className="notice" role="status">
      Showing the first {list.items.length.toLocaleString("en")} {what}; there are more.
    </p>
  );
}
