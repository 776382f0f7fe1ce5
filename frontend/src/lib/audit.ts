// Audit-trail filters: the form's values (times typed as UTC `datetime-local` text) turned into
// the query parameters of GET /api/v1/audit and its export.

export type AuditFilters = {
  project: string;
  actor: string;
  action: string;
  outcome: string;
  /** `YYYY-MM-DDTHH:MM` (or with seconds), read as UTC; empty for no bound. */
  since: string;
  until: string;
};

export const NO_FILTERS: AuditFilters = { project: "", actor: "", action: "", outcome: "", since: "", until: "" };

/** A `datetime-local` value read as UTC, in ms; undefined when empty or not a time. */
export function utcInputToMs(value: string): number | undefined {
  const text = value.trim();
  if (!text) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(text)) return undefined;
  const ms = Date.parse(`${text}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A time in ms as a `datetime-local` value in UTC (to the minute). */
export function msToUtcInput(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

/** The query parameters for the filters (empty ones left out; trimmed text). */
export function auditParams(f: AuditFilters): Record<string, string | number | undefined> {
  const text = (s: string) => s.trim() || undefined;
  return {
    project: text(f.project),
    actor: text(f.actor),
    action: text(f.action),
    outcome: text(f.outcome),
    since: utcInputToMs(f.since),
    until: utcInputToMs(f.until),
  };
}

/** What is wrong with the filters, or null: a time that is not a time, or an empty range. */
export function filterProblem(f: AuditFilters): string | null {
  if (f.since.trim() && utcInputToMs(f.since) === undefined) return "“Since” is not a date and time.";
  if (f.until.trim() && utcInputToMs(f.until) === undefined) return "“Until” is not a date and time.";
  const since = utcInputToMs(f.since);
  const until = utcInputToMs(f.until);
  if (since !== undefined && until !== undefined && until <= since) return "“Until” must be after “Since”.";
  return null;
}
