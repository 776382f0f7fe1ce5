// Shaping the dashboard's differential-privacy form into the API's question (docs/privacy.md).

/** The JSON query for the form's fields (only the fields its kind takes). */
export function dpQuery(kind: string, column: string, lower: string, upper: string, extra: string): Record<string, unknown> {
  const bounds = { column, lower: Number(lower), upper: Number(upper) };
  switch (kind) {
    case "count":
      return { kind };
    case "count_by":
      return { kind, column, categories: extra.split(",").map((c) => c.trim()).filter(Boolean) };
    case "histogram":
      return { kind, ...bounds, bins: Number(extra) };
    case "quantiles":
      return { kind, ...bounds, probabilities: extra.split(",").map((p) => Number(p.trim())) };
    default:
      return { kind, ...bounds };
  }
}


/** How a column can be shown to readers below a dataset's sensitivity. */
export const MASK_MODES = ["clear", "masked", "hidden"] as const;

/** The form's mode per column, from the stored masking (columns not listed are in clear). */
export function modesOf(columns: string[], masked: Array<{ column: string; mode: string }>): Record<string, string> {
  const modes: Record<string, string> = Object.fromEntries(columns.map((c) => [c, "clear"]));
  for (const m of masked) modes[m.column] = m.mode;
  return modes;
}

/** The `PUT .../masking` body: every column not in clear, by name. */
export function maskingBody(modes: Record<string, string>): { columns: Array<{ column: string; mode: string }> } {
  return {
    columns: Object.entries(modes)
      .filter(([, mode]) => mode !== "clear")
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([column, mode]) => ({ column, mode })),
  };
}
