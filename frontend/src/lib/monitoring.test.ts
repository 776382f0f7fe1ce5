import { describe, expect, test } from "vitest";
import { prettyPayload, scheduleText } from "./monitoring";

describe("monitoring wording", () => {
  test("schedules read as intervals", () => {
    expect(scheduleText({ interval_seconds: 3600 })).toBe("every 1 h 0 min");
    expect(scheduleText({ interval_seconds: 90 })).toBe("every 1 min 30 s");
    expect(scheduleText({ interval_seconds: null })).toBe("—");
    expect(scheduleText({})).toBe("—");
  });
  test("payloads are pretty-printed when they are JSON", () => {
    expect(prettyPayload('{"event":"alert.opened","alert":{"id":1}}')).toBe(
      '{\n  "event": "alert.opened",\n  "alert": {\n    "id": 1\n  }\n}',
    );
    expect(prettyPayload("not json")).toBe("not json");
  });
});
