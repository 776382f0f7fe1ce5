// A secret shown once (a new token, a generated password): in a `.secret` box with a copy
// button, and a way to put it away.
import { useState, type ReactNode } from "react";

export function Secret({
  value,
  title,
  children,
  testId,
  onDone,
}: {
  value: string;
  title: string;
  children?: ReactNode;
  testId?: string;
  onDone?: () => void;
}) {
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied("yes");
    } catch {
      setCopied("no");
    }
  };
  return (
    <div className="secret" role="region" aria-label={title} data-testid={testId}>
      <p>
        <strong>{title}</strong> — shown only this once: copy it now.
      </p>
      <p className="secret-value">
        <code>{value}</code>
      </p>
      {children}
      <div className="actions">
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
        {onDone ? (
          <button type="button" onClick={onDone}>
            I have stored it
          </button>
        ) : null}
        <span role="status" className="muted">
          {copied === "yes" ? "Copied to the clipboard." : copied === "no" ? "The browser refused: select the text and copy it." : ""}
        </span>
      </div>
    </div>
  );
}
