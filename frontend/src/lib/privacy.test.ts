import { describe, expect, test } from "vitest";
import { dpQuery } from "./privacy";

describe("DP question", () => {
  test("each kind takes only its own fields", () => {
    expect(dpQuery("count", "age", "0", "100", "")).toEqual({ kind: "count" });
    expect(dpQuery("mean", "age", "0", "100", "")).toEqual({ kind: "mean", column: "age", lower: 0, upper: 100 });
    expect(dpQuery("histogram", "age", "-5", "5", "10")).toEqual({ kind: "histogram", column: "age", lower: -5, upper: 5, bins: 10 });
    expect(dpQuery("quantiles", "age", "0", "1", "0.5, 0.9")).toEqual({
      kind: "quantiles",
      column: "age",
      lower: 0,
      upper: 1,
      probabilities: [0.5, 0.9],
    });
    expect(dpQuery("count_by", "region", "", "", "a, b,,c")).toEqual({ kind: "count_by", column: "region", categories: ["a", "b", "c"] });
  });
  test("numbers that do not parse are sent as they are, for the server to refuse", () => {
    expect(dpQuery("sum", "age", "x", "100", "")).toEqual({ kind: "sum", column: "age", lower: Number.NaN, upper: 100 });
  });
});
