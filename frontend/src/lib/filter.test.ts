import { describe, expect, test } from "vitest";
import { byteToIndex, errorIndex, identifier, markError } from "./filter";

describe("filter box", () => {
  test("finds the position the server names", () => {
    const filter = "metrics.acc > 0.9 and";
    expect(errorIndex(filter, "expected a comparison after 'and' at position 21")).toBe(21);
    expect(errorIndex(filter, "unknown column")).toBeNull();
  });
  test("counts UTF-8 bytes as the server does", () => {
    const filter = "tags.name = 'é' and ?";
    // 'é' is two bytes, so byte 21 is character 20 ('?').
    expect(byteToIndex(filter, 21)).toBe(20);
    expect(filter[errorIndex(filter, "unexpected '?' at position 21")!]).toBe("?");
    expect(byteToIndex("😀x", 4)).toBe(2);
    expect(byteToIndex("abc", 99)).toBe(3);
    expect(byteToIndex("abc", 0)).toBe(0);
  });
  test("marks the offending character", () => {
    expect(markError("a = ?", 4)).toEqual({ before: "a = ", at: "?", after: "" });
    expect(markError("ab", 5)).toEqual({ before: "ab", at: "", after: "" });
    expect(markError("x😀y", 1)).toEqual({ before: "x", at: "😀", after: "y" });
  });
  test("quotes keys that are not plain identifiers", () => {
    expect(identifier("metrics", "val.acc")).toBe("metrics.val.acc");
    expect(identifier("params", "learning rate")).toBe("params.`learning rate`");
    expect(identifier("tags", "1st")).toBe("tags.`1st`");
  });
});
