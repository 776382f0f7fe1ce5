import { describe, expect, test } from "vitest";
import { clearanceRank, clearanceReaches } from "./clearance";

describe("clearance", () => {
  test("levels are ordered public < internal < confidential < restricted", () => {
    expect(clearanceRank("public")).toBe(0);
    expect(clearanceRank("restricted")).toBe(3);
    expect(clearanceRank("Confidential")).toBe(2);
  });
  test("a clearance reaches its own level and those below", () => {
    expect(clearanceReaches("internal", "internal")).toBe(true);
    expect(clearanceReaches("internal", "public")).toBe(true);
    expect(clearanceReaches("confidential", "internal")).toBe(true);
    expect(clearanceReaches("restricted", "restricted")).toBe(true);
  });
  test("a clearance below the sensitivity does not", () => {
    expect(clearanceReaches("internal", "confidential")).toBe(false);
    expect(clearanceReaches("public", "internal")).toBe(false);
  });
  test("unknown or missing names never reach", () => {
    expect(clearanceReaches("secret", "public")).toBe(false);
    expect(clearanceReaches("restricted", "top-secret")).toBe(false);
    expect(clearanceReaches(undefined, "public")).toBe(false);
    expect(clearanceReaches("internal", null)).toBe(false);
  });
});
