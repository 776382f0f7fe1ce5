import { describe, expect, test } from "vitest";
import type { RunResponse } from "../api/schema.gen";
import {
  columnId,
  compareIds,
  defaultColumns,
  discoverKeys,
  filterErrorIndex,
  latestMetrics,
  orderClause,
  paramDiff,
  parseColumnId,
  runDuration,
  runRow,
  sortValue,
} from "./runs";

function run(over: Partial<RunResponse>): RunResponse {
  return {
    run_id: "r",
    name: "run",
    project: "demo",
    experiment_id: 1,
    status: "FINISHED",
    created_by: "alice",
    created_at: 0,
    start_time: 1000,
    end_time: 4000,
    metrics: [],
    params: [],
    tags: [],
    inputs: [],
    outputs: { datasets: [], models: [] },
    ...over,
  };
}

describe("runs table keys", () => {
  test("keys of every run are found, sorted, mlflow tags last", () => {
    const keys = discoverKeys([
      run({ metrics: [{ key: "loss", value: 1 }], params: [{ key: "lr", value: "0.1" }], tags: [{ key: "mlflow.user", value: "a" }] }),
      run({ metrics: [{ key: "acc", value: 0.9 }, { key: "loss", value: 2 }], tags: [{ key: "team", value: "x" }] }),
    ]);
    expect(keys).toEqual({ metrics: ["acc", "loss"], params: ["lr"], tags: ["team", "mlflow.user"] });
  });
  test("default columns are a few metrics then a few params", () => {
    const cols = defaultColumns({ metrics: ["a", "b", "c", "d", "e"], params: ["p", "q", "r", "s"], tags: ["t"] });
    expect(cols).toEqual(["metrics:a", "metrics:b", "metrics:c", "metrics:d", "params:p", "params:q", "params:r"]);
  });
  test("column ids round-trip, keys may hold colons", () => {
    expect(parseColumnId(columnId("tags", "a:b"))).toEqual({ kind: "tags", key: "a:b" });
    expect(parseColumnId("name")).toBeNull();
    expect(parseColumnId("other:x")).toBeNull();
  });
});

describe("runs table values", () => {
  const row = runRow(
    run({
      metrics: [{ key: "acc", value: 0.5 }, { key: "bad", value: "NaN" as unknown as number }, { key: "inf", value: "Infinity" as unknown as number }],
      params: [{ key: "lr", value: "0.01" }, { key: "opt", value: "adam" }],
    }),
  );
  test("sort values: numbers for metrics and numeric params, NaN as missing", () => {
    expect(sortValue(row, "metrics:acc")).toBe(0.5);
    expect(sortValue(row, "metrics:bad")).toBeNull();
    expect(sortValue(row, "metrics:inf")).toBe(Number.POSITIVE_INFINITY);
    expect(sortValue(row, "metrics:none")).toBeNull();
    expect(sortValue(row, "params:lr")).toBe(0.01);
    expect(sortValue(row, "params:opt")).toBe("adam");
    expect(sortValue(row, "duration")).toBe(3000);
    expect(sortValue(row, "start_time")).toBe(1000);
  });
  test("duration needs an end", () => {
    expect(runDuration({ start_time: 5, end_time: null })).toBeNull();
    expect(runDuration({ start_time: 5, end_time: 9 })).toBe(4);
  });
  test("server order clauses", () => {
    expect(orderClause("metrics:accuracy", true)).toBe("metrics.accuracy DESC");
    expect(orderClause("params:my key", false)).toBe("params.`my key` ASC");
    expect(orderClause("created_by", false)).toBe("attributes.user_id ASC");
    expect(orderClause("name", true)).toBe("attributes.run_name DESC");
    expect(orderClause("duration", true)).toBeNull();
  });
  test("filter errors point into the filter, order_by errors do not", () => {
    expect(filterErrorIndex("metrics.loss >", "invalid filter: expected a value at position 14")).toBe(14);
    expect(filterErrorIndex("x", "order_by[0] is not valid: bad at position 3")).toBeNull();
    expect(filterErrorIndex("", "at position 0")).toBeNull();
  });
});

describe("comparison", () => {
  test("ids are unique and non-blank", () => {
    expect(compareIds(["a", " b ", "", "a"])).toEqual(["a", "b"]);
  });
  test("param diff lists differing rows first; a missing param differs", () => {
    const rows = paramDiff([
      { params: [{ key: "lr", value: "0.1" }, { key: "seed", value: "1" }, { key: "opt", value: "adam" }] },
      { params: [{ key: "lr", value: "0.2" }, { key: "seed", value: "1" }] },
    ]);
    expect(rows).toEqual([
      { key: "lr", values: ["0.1", "0.2"], differs: true },
      { key: "opt", values: ["adam", undefined], differs: true },
      { key: "seed", values: ["1", "1"], differs: false },
    ]);
  });
  test("latest metrics of each run by key", () => {
    const rows = latestMetrics([
      { metrics: [{ key: "loss", value: 0.2, step: 9 }] },
      { metrics: [{ key: "acc", value: 0.8, step: 3 }, { key: "loss", value: 0.3 }] },
    ]);
    expect(rows).toEqual([
      { key: "acc", values: [undefined, { value: 0.8, step: 3 }] },
      { key: "loss", values: [{ value: 0.2, step: 9 }, { value: 0.3, step: 0 }] },
    ]);
  });
});
