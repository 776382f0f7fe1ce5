// Dataset sensitivity and user clearance: one ordered scale, public < internal < confidential <
// restricted. A user may read a dataset's raw rows when their clearance reaches its sensitivity.

/** The levels, lowest first. */
export const SENSITIVITIES = ["public", "internal", "confidential", "restricted"] as const;

/** A level's rank on the scale (0 for `public`), or -1 for a name not on it. */
export function clearanceRank(level: string | null | undefined): number {
  return SENSITIVITIES.indexOf((level ?? "").toLowerCase() as (typeof SENSITIVITIES)[number]);
}

/**
 * Whether `clearance` reaches `sensitivity`. An unknown name on either side never does: the
 * dashboard then leaves the offer out and the server decides.
 */
export function clearanceReaches(clearance: string | null | undefined, sensitivity: string | null | undefined): boolean {
  const have = clearanceRank(clearance);
  const need = clearanceRank(sensitivity);
  return have >= 0 && need >= 0 && have >= need;
}
