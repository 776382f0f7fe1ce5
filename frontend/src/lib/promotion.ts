// Promotion gates in the dashboard (docs/promotion.md): which gates guard a model's aliases.

/** A gate as listed: the model it guards (none: every model of the project) and its alias. */
export type GateScope = { model?: string | null; alias: string };

/**
 * The gates that guard `model`'s aliases: its own, and the project-wide ones on aliases it has
 * no own gate for (a model's own gate wins), sorted by alias.
 */
export function gatesFor<G extends GateScope>(gates: G[], model: string): G[] {
  const own = gates.filter((g) => g.model === model);
  const wide = gates.filter((g) => (g.model ?? null) === null && !own.some((o) => o.alias === g.alias));
  return [...own, ...wide].sort((a, b) => (a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0));
}
