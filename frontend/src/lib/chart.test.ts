import { describe, expect, test } from "vitest";
import { alignSeries, bucketColumns, histogramColumns, keyZoom, plottable, zoomRange } from "./chart";

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

describe("keyboard zoom", () => {
  const whole = { start: 0, end: 1000 };
  test("plus halves the range around its middle, minus doubles it", () => {
    expect(keyZoom("+", whole, whole)).toEqual({ start: 250, end: 750 });
    expect(keyZoom("=", { start: 250, end: 750 }, whole)).toEqual({ start: 375, end: 625 });
    expect(keyZoom("-", { start: 375, end: 625 }, whole)).toEqual({ start: 250, end: 750 });
    expect(keyZoom("-", { start: 250, end: 750 }, whole)).toBe("reset");
  });
  test("arrows move by a quarter and stop at the edges with the same width", () => {
    expect(keyZoom("ArrowRight", { start: 250, end: 750 }, whole)).toEqual({ start: 375, end: 875 });
    expect(keyZoom("ArrowRight", { start: 400, end: 900 }, whole)).toEqual({ start: 500, end: 1000 });
    expect(keyZoom("ArrowLeft", { start: 0, end: 500 }, whole)).toBeNull();
    expect(keyZoom("ArrowLeft", { start: 100, end: 600 }, whole)).toEqual({ start: 0, end: 500 });
  });
  test("0 and Escape reset; other keys and a one-step view do nothing", () => {
    expect(keyZoom("0", { start: 1, end: 2 }, whole)).toBe("reset");
    expect(keyZoom("Escape", { start: 1, end: 2 }, whole)).toBe("reset");
    expect(keyZoom("a", whole, whole)).toBeNull();
    expect(keyZoom("+", { start: 5, end: 6 }, whole)).toBeNull();
  });
});
