import { describe, expect, test } from "vitest";
import { dpQuery, maskingBody, modesOf } from "./privacy";

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

describe("masking", () => {
  test("the form starts from the stored masking, unlisted columns in clear", () => {
    expect(modesOf(["email", "age", "ssn"], [{ column: "ssn", mode: "hidden" }])).toEqual({ email: "clear", age: "clear", ssn: "hidden" });
    // A masked column the latest version no longer has stays listed, so saving keeps it visible to the server's check.
    expect(modesOf(["a"], [{ column: "gone", mode: "masked" }])).toEqual({ a: "clear", gone: "masked" });
  });
  test("only columns not in clear are sent, by name", () => {
    expect(maskingBody({ z: "masked", a: "hidden", m: "clear" })).toEqual({
      columns: [
        { column: "a", mode: "hidden" },
        { column: "z", mode: "masked" },
      ],
    });
    expect(maskingBody({ a: "clear" })).toEqual({ columns: [] });
  });
});
