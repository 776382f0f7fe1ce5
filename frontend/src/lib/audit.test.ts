import { describe, expect, test } from "vitest";
import { auditParams, filterProblem, msToUtcInput, NO_FILTERS, utcInputToMs } from "./audit";

describe("utcInputToMs", () => {
  test("reads datetime-local text as UTC", () => {
    expect(utcInputToMs("2026-12-04T16:40")).toBe(Date.UTC(2026, 11, 4, 16, 40));
    expect(utcInputToMs("2026-12-04T16:40:41")).toBe(Date.UTC(2026, 11, 4, 16, 40, 41));
    expect(msToUtcInput(Date.UTC(2026, 11, 4, 16, 40, 41))).toBe("2026-12-04T16:40");
  });
  test("empty or malformed is no bound", () => {
    expect(utcInputToMs("")).toBeUndefined();
    expect(utcInputToMs("yesterday")).toBeUndefined();
    expect(utcInputToMs("2026-13-45T99:99")).toBeUndefined();
  });
});

describe("auditParams", () => {
  test("leaves out empty filters and converts times", () => {
    expect(auditParams({ ...NO_FILTERS, actor: " alice ", since: "2026-01-01T00:00" })).toEqual({
      project: undefined,
      actor: "alice",
      action: undefined,
      outcome: undefined,
      since: Date.UTC(2026, 0, 1),
      until: undefined,
    });
  });
});

describe("filterProblem", () => {
  test("catches bad times and empty ranges", () => {
    expect(filterProblem(NO_FILTERS)).toBeNull();
    expect(filterProblem({ ...NO_FILTERS, since: "nope" })).toMatch(/Since/);
    expect(filterProblem({ ...NO_FILTERS, since: "2026-01-02T00:00", until: "2026-01-01T00:00" })).toMatch(/after/);
  });
});
