import { describe, expect, test } from "vitest";
import { gatesFor } from "./promotion";

describe("gates of a model", () => {
  test("the model's own gate wins over the project-wide one on the same alias", () => {
    const gates = [
      { id: 1, model: null, alias: "production" },
      { id: 2, model: "churn", alias: "production" },
      { id: 3, model: null, alias: "staging" },
      { id: 4, model: "other", alias: "canary" },
    ];
    expect(gatesFor(gates, "churn").map((g) => g.id)).toEqual([2, 3]);
    expect(gatesFor(gates, "other").map((g) => g.id)).toEqual([4, 1, 3]);
    expect(gatesFor([], "churn")).toEqual([]);
  });
});
