// Small wording helpers of the monitoring pages.
import { formatDuration } from "./format";

/** A monitor's schedule as `every 1 h 0 min`, or `—` when it has none. */
export function scheduleText(monitor: { interval_seconds?: number | null }): string {
  return monitor.interval_seconds ? `every ${formatDuration(monitor.interval_seconds * 1000)}` : "—";
}

/** A delivery's JSON body pretty-printed, or as sent when it is not JSON. */
export function prettyPayload(payload: string): string {
  try {
    return JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    return payload;
  }
}
