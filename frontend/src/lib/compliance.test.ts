import { describe, expect, it } from "vitest";
import { changedFields, gateRequirements, reportKindLabel } from "./compliance";

describe("changedFields", () => {
  it("keeps only edits, including fields emptied to clear them", () => {
    const fields = [
      { key: "overview", value: "old" },
      { key: "uses", value: null },
      { key: "licenses", value: "MIT" },
    ];
    expect(changedFields(fields, { overview: "old", uses: "new", licenses: "" })).toEqual({ uses: "new", licenses: "" });
    expect(changedFields(fields, {})).toEqual({});
  });
});

describe("gateRequirements", () => {
  it("turns the form into the API's requirements, leaving empty rows out", () => {
    expect(
      gateRequirements({
        approvals: 2,
        metrics: [
          { dataset: "scoring", metric: "accuracy", min: "0.85", max: "" },
          { dataset: "", metric: "", min: "", max: "" },
        ],
        noOpenDriftAlert: true,
        trainingDataQuality: false,
      }),
    ).toEqual({ metrics: [{ dataset: "scoring", metric: "accuracy", min: 0.85 }], approvals: 2, no_open_drift_alert: true });
    expect(gateRequirements({ approvals: 0, metrics: [], noOpenDriftAlert: false, trainingDataQuality: false })).toEqual({});
  });
});

describe("reportKindLabel", () => {
  it("names known kinds and passes others through", () => {
    expect(reportKindLabel("annex_iv")).toBe("Annex IV documentation");
    expect(reportKindLabel("other")).toBe("other");
  });
});
