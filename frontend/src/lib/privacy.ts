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

