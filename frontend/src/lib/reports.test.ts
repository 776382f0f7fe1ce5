import { describe, expect, test } from "vitest";
import {
  boundLabel,
  compactNumber,
  errorOf,
  expectationArgs,
  formatFigure,
  groupLabel,
  histogramData,
  isComparison,
  isDrift,
  isEvaluation,
  isFairness,
  isProfile,
  isQuality,
  latestByKind,
  scoreKind,
  thin,
} from "./reports";

describe("drift histograms", () => {
  test("numerical bins become bars with edge ticks and per-side shares", () => {
    const data = histogramData({ type: "bins", edges: [0, 10, 20, 30], reference: [2, 6, 2], current: [0, 5, 15] })!;
    expect(data.kind).toBe("bins");
    expect(data.labels).toEqual(["[0, 10)", "[10, 20)", "[20, 30]"]);
    expect(data.ticks).toEqual([
      { at: -0.5, label: "0" },
      { at: 0.5, label: "10" },
      { at: 1.5, label: "20" },
      { at: 2.5, label: "30" },
    ]);
    expect(data.reference).toEqual([2, 6, 2]);
    expect(data.referenceShare).toEqual([20, 60, 20]);
    expect(data.currentShare).toEqual([0, 25, 75]);
  });
  test("edge ticks are thinned to the maximum asked", () => {
    const edges = Array.from({ length: 21 }, (_, i) => i * 5);
    const counts = new Array(20).fill(1);
    const data = histogramData({ type: "bins", edges, reference: counts, current: counts }, 6)!;
    expect(data.labels).toHaveLength(20);
    expect(data.ticks.length).toBeLessThanOrEqual(7);
    expect(data.ticks[0]).toEqual({ at: -0.5, label: "0" });
    expect(data.ticks[data.ticks.length - 1]).toEqual({ at: 19.5, label: "100" });
  });
  test("categories keep their labels and the rest becomes one `other` bar", () => {
    const data = histogramData({
      type: "categories",
      labels: ["a", "b"],
      reference: [3, 1],
      current: [1, 3],
      other: { categories: 4, reference: 0, current: 4 },
    })!;
    expect(data.kind).toBe("categories");
    expect(data.labels).toEqual(["a", "b", "other (4)"]);
    expect(data.current).toEqual([1, 3, 4]);
    expect(data.ticks.map((t) => t.at)).toEqual([0, 1, 2]);
    expect(data.referenceShare).toEqual([75, 25, 0]);
  });
  test("an empty side has zero shares, and an empty histogram no data", () => {
    const data = histogramData({ type: "categories", labels: ["x"], reference: [0], current: [5], other: null })!;
    expect(data.referenceShare).toEqual([0]);
    expect(data.currentShare).toEqual([100]);
    expect(histogramData({ type: "empty" })).toBeNull();
    expect(histogramData({ type: "bins", edges: [1], reference: [], current: [] })).toBeNull();
  });
  test("thin keeps both ends", () => {
    expect(thin(0, 5)).toEqual([]);
    expect(thin(3, 5)).toEqual([0, 1, 2]);
    const picked = thin(100, 5);
    expect(picked[0]).toBe(0);
    expect(picked[picked.length - 1]).toBe(99);
    expect(picked.length).toBeLessThanOrEqual(6);
  });
});

describe("report figures", () => {
  test("figures keep 4 significant digits", () => {
    expect(formatFigure(0.123456)).toBe("0.1235");
    expect(formatFigure(12)).toBe("12");
    expect(formatFigure(1.5e-12)).toBe("1.500e-12");
    expect(formatFigure(null)).toBe("—");
    expect(formatFigure(Number.NaN)).toBe("NaN");
  });
  test("axis numbers are compact", () => {
    expect(compactNumber(8000)).toBe("8000");
    expect(compactNumber(25357.76)).toBe("25.4k");
    expect(compactNumber(123718.43)).toBe("124k");
    expect(compactNumber(2_500_000)).toBe("2.5M");
    expect(compactNumber(0.078065)).toBe("0.0781");
    expect(compactNumber(-42.5)).toBe("-42.5");
    expect(compactNumber(0)).toBe("0");
  });
  test("p-value methods are told from distances", () => {
    expect(scoreKind("ks")).toBe("p-value");
    expect(scoreKind("chisquare")).toBe("p-value");
    expect(scoreKind("wasserstein")).toBe("distance");
    expect(scoreKind("psi")).toBe("distance");
    expect(scoreKind(null)).toBeNull();
  });
  test("groups, expectation options and bounds read as text", () => {
    expect(groupLabel(["F", "a"], ["gender", "region"])).toBe("gender=F, region=a");
    expect(groupLabel([], ["gender"])).toBe("(overall)");
    expect(
      expectationArgs({ type: "expect_column_values_to_be_in_set", column: "region", value_set: ["a", "b"], severity: "warn" }),
    ).toBe('value_set=["a","b"]');
    expect(boundLabel({ min: 0.8 })).toBe("≥ 0.8");
    expect(boundLabel({ max: 0.1 })).toBe("≤ 0.1");
    expect(boundLabel({ min: 0.8, max: 1.25 })).toBe("between 0.8 and 1.25");
  });
  test("the newest report of each kind is kept", () => {
    const latest = latestByKind([
      { id: 5, kind: "drift", created_at: 100 },
      { id: 4, kind: "profile", created_at: 90 },
      { id: 7, kind: "drift", created_at: 100 },
      { id: 3, kind: "drift", created_at: 50 },
    ]);
    expect(latest.map((r) => r.id)).toEqual([7, 4]);
  });
});

describe("result shapes", () => {
  test("each kind is recognised and errors are read", () => {
    expect(isProfile({ rows: 1, duplicated_rows: 0, constant_columns: [], empty_columns: [], columns: [] })).toBe(true);
    expect(isQuality({ status: "pass", summary: "", rows: 1, results: [] })).toBe(true);
    expect(isDrift({ drift: { columns: [] } })).toBe(true);
    expect(isFairness({ report: { by_group: [] }, conditions: [] })).toBe(true);
    expect(isEvaluation({ overall: { task: "binary" } })).toBe(true);
    expect(isComparison({ comparison: { overall: [] } })).toBe(true);
    expect(isDrift({ results: [] })).toBe(false);
    expect(isProfile(null)).toBe(false);
    expect(errorOf({ error: "the column age is missing" })).toBe("the column age is missing");
    expect(errorOf({ rows: 3 })).toBeNull();
  });
});
