import { describe, expect, test } from "vitest";
import { alignSeries, bucketColumns, histogramColumns, plottable, zoomRange } from "./chart";

describe("chart data", () => {
  test("buckets keep their spikes as a min/max band", () => {
    const columns = bucketColumns([
      { start_step: 0, end_step: 9, count: 10, min: 0.1, max: 0.9, first: 0.5, last: 0.4 },
      { start_step: 10, end_step: 19, count: 10, min: 0.2, max: 50, first: 0.3, last: 0.25 },
    ]);
    expect(columns.x).toEqual([0, 9, 10, 19]);
    expect(columns.value).toEqual([0.5, 0.4, 0.3, 0.25]);
    expect(Math.max(...columns.max.map((v) => v ?? -Infinity))).toBe(50);
    expect(columns.min).toEqual([0.1, 0.1, 0.2, 0.2]);
  });
  test("one-step buckets give one point and non-finite values become gaps", () => {
    const columns = bucketColumns([
      { start_step: 5, end_step: 5, count: 1, min: 1, max: 1, first: 1, last: 1 },
      { start_step: 6, end_step: 6, count: 1, min: "NaN", max: "NaN", first: "NaN", last: "NaN" },
    ]);
    expect(columns.x).toEqual([5, 6]);
    expect(columns.value).toEqual([1, null]);
    expect(plottable(Number.POSITIVE_INFINITY)).toBeNull();
  });
  test("series are aligned on the union of their steps", () => {
    const aligned = alignSeries([
      { x: [0, 2, 4], y: [1, 2, 3] },
      { x: [1, 2], y: [10, 20] },
    ]);
    expect(aligned.x).toEqual([0, 1, 2, 4]);
    expect(aligned.ys).toEqual([
      [1, null, 2, 3],
      [null, 10, 20, null],
    ]);
  });
  test("a zoom asks for whole steps and ignores empty selections", () => {
    expect(zoomRange(10.4, 3.2)).toEqual({ start: 3, end: 11 });
    expect(zoomRange(5, 5)).toBeNull();
    expect(zoomRange(Number.NaN, 3)).toBeNull();
  });
  test("histograms drop counts without edges", () => {
    expect(histogramColumns([0, 1, 2], [5, 6, 7])).toEqual({ x: [0, 1], y: [5, 6] });
  });
});
