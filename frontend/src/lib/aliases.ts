// Shaping a model's alias history for its timeline: one lane per alias, newest move first.

/** One move of an alias, as the API gives it. */
export type AliasEvent = {
  id: number;
  alias: string;
  old_version?: number | null;
  new_version?: number | null;
  actor: string;
  at: number;
};

/** What a move did. */
export type MoveKind = "set" | "moved" | "deleted" | "unchanged";

export function moveKind(e: AliasEvent): MoveKind {
  const had = e.old_version !== null && e.old_version !== undefined;
  const has = e.new_version !== null && e.new_version !== undefined;
  if (!had && has) return "set";
  if (had && !has) return "deleted";
  if (had && has && e.old_version === e.new_version) return "unchanged";
  return "moved";
}

/** One alias's lane: its moves newest first and where it points now (null: deleted). */
export type AliasLane = { alias: string; events: AliasEvent[]; current: number | null; lastAt: number };

/** Groups events by alias; lanes with the most recent move come first. */
export function aliasLanes(events: AliasEvent[]): AliasLane[] {
  const byAlias = new Map<string, AliasEvent[]>();
  for (const e of events) (byAlias.get(e.alias) ?? byAlias.set(e.alias, []).get(e.alias)!).push(e);
  const lanes: AliasLane[] = [];
  for (const [alias, list] of byAlias) {
    // Newest first; the id is the order the server recorded them in, which breaks ties in time.
    list.sort((a, b) => b.at - a.at || b.id - a.id);
    const newest = list[0];
    lanes.push({ alias, events: list, current: newest.new_version ?? null, lastAt: newest.at });
  }
  lanes.sort((a, b) => b.lastAt - a.lastAt || a.alias.localeCompare(b.alias));
  return lanes;
}
