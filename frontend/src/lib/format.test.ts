import { describe, expect, test } from "vitest";
import { formatBytes, formatDuration, formatNumber, formatPercent, formatTime, shortHash } from "./format";

describe("format", () => {
  test("times are UTC and missing ones are a dash", () => {
    expect(formatTime(Date.UTC(2026, 11, 4, 16, 40, 41))).toBe("2026-12-04 16:40:41");
    expect(formatTime(null)).toBe("—");
    expect(formatTime(Number.NaN)).toBe("—");
    expect(formatTime(8.64e15 + 1)).toBe("—");
  });
  test("bytes use powers of 1000", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1500)).toBe("1.50 kB");
    expect(formatBytes(12_345_678)).toBe("12.3 MB");
    expect(formatBytes(-2000)).toBe("-2.00 kB");
    expect(formatBytes(undefined)).toBe("—");
  });
  test("numbers keep six significant digits and the API's non-finite spellings", () => {
    expect(formatNumber(0.123456789)).toBe("0.123457");
    expect(formatNumber(42)).toBe("42");
    expect(formatNumber(1e-7)).toBe("1.0000e-7");
    expect(formatNumber(3.2e12)).toBe("3200000000000");
    expect(formatNumber(3.25e20)).toBe("3.2500e+20");
    expect(formatNumber(Number.NaN)).toBe("NaN");
    expect(formatNumber(Number.NEGATIVE_INFINITY)).toBe("-Infinity");
    expect(formatNumber("Infinity")).toBe("Infinity");
    expect(formatNumber(0)).toBe("0");
  });
  test("durations, hashes and percentages", () => {
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(12_340)).toBe("12.3 s");
    expect(formatDuration(245_000)).toBe("4 min 5 s");
    expect(formatDuration(7_380_000)).toBe("2 h 3 min");
    expect(formatDuration(-1)).toBe("—");
    expect(shortHash("0123456789abcdef0123")).toBe("0123456789ab");
    expect(shortHash(null)).toBe("—");
    expect(formatPercent(0.875)).toBe("87.5%");
    expect(formatPercent(0.0123)).toBe("1.23%");
  });
});
