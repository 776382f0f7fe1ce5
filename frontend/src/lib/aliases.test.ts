import { describe, expect, test } from "vitest";
import { aliasLanes, moveKind, type AliasEvent } from "./aliases";

const ev = (id: number, alias: string, old_version: number | null, new_version: number | null, at: number): AliasEvent => ({
  id,
  alias,
  old_version,
  new_version,
  actor: "alice",
  at,
});

describe("moveKind", () => {
  test("names set, move, delete", () => {
    expect(moveKind(ev(1, "a", null, 1, 0))).toBe("set");
    expect(moveKind(ev(1, "a", 1, 2, 0))).toBe("moved");
    expect(moveKind(ev(1, "a", 2, null, 0))).toBe("deleted");
    expect(moveKind(ev(1, "a", 2, 2, 0))).toBe("unchanged");
    expect(moveKind({ id: 1, alias: "a", actor: "x", at: 0, new_version: 3 })).toBe("set");
  });
});

describe("aliasLanes", () => {
  test("groups by alias, newest first, lanes by latest move", () => {
    const lanes = aliasLanes([
      ev(1, "staging", null, 1, 100),
      ev(2, "champion", null, 1, 200),
      ev(3, "staging", 1, 2, 300),
      ev(4, "staging", 2, 3, 300),
      ev(5, "old", null, 1, 50),
      ev(6, "old", 1, null, 60),
    ]);
    expect(lanes.map((l) => l.alias)).toEqual(["staging", "champion", "old"]);
    expect(lanes[0].events.map((e) => e.id)).toEqual([4, 3, 1]);
    expect(lanes[0].current).toBe(3);
    expect(lanes[2].current).toBeNull();
  });
  test("no events, no lanes", () => {
    expect(aliasLanes([])).toEqual([]);
  });
});
