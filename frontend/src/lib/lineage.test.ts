import { describe, expect, test } from "vitest";
import { lineagePath, nodePage, parseVersionLabel, reportProject } from "./lineage";

describe("parseVersionLabel", () => {
  test("splits project, name and version", () => {
    expect(parseVersionLabel("demo/customers@v2")).toEqual({ project: "demo", name: "customers", version: 2 });
    expect(parseVersionLabel("demo/churn@v1-model@v12")).toEqual({ project: "demo", name: "churn@v1-model", version: 12 });
  });
  test("refuses other shapes", () => {
    expect(parseVersionLabel("quality report #3")).toBeNull();
    expect(parseVersionLabel("demo/x@vz")).toBeNull();
    expect(parseVersionLabel("/x@v1")).toBeNull();
  });
});

describe("nodePage", () => {
  const nodes = [
    { kind: "dataset_version", id: "4", label: "demo/customers@v2" },
    { kind: "report", id: "7", label: "quality report #7" },
    { kind: "model_version", id: "3", label: "demo/churn model@v1" },
    { kind: "run", id: "ab12", label: "demo/exp/run-1" },
  ];
  const edges = [{ from_kind: "dataset_version", from_id: "4", to_kind: "report", to_id: "7", relation: "checked" }];
  test("links each kind to its page, escaping names", () => {
    expect(nodePage(nodes[0])).toBe("/projects/demo/datasets/customers/versions/2");
    expect(nodePage(nodes[2])).toBe("/projects/demo/models/churn%20model/versions/1");
    expect(nodePage(nodes[3])).toBe("/runs/ab12");
    expect(nodePage(nodes[1], nodes, edges)).toBe("/projects/demo/reports/7");
  });
  test("a report without a known neighbour has no page", () => {
    expect(nodePage(nodes[1], nodes, [])).toBeNull();
    expect(reportProject("7", nodes, [])).toBeNull();
  });
});

test("lineagePath keeps only non-default settings", () => {
  expect(lineagePath("run", "ab", "both", 3)).toBe("/lineage?kind=run&id=ab");
  expect(lineagePath("model_version", "5", "upstream", 6)).toBe("/lineage?kind=model_version&id=5&direction=upstream&depth=6");
});
