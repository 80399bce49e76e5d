/** A reading received more than this long after its time is counted `late`. */
export const LATE_MS = 60 * 60 * 1000;
/** Before this a time stamp cannot be real (a gateway without a real-time clock says 1970). */
export const CLOCK_FLOOR_MS = Date.UTC(2001, 0, 1);
/** A time stamp this far ahead of the master's clock is not believed either. */
export const CLOCK_AHEAD_MS = 24 * 60 * 60 * 1000;

/**
 * Pure: how far a reading's time stamp can be trusted against when the master received
 * it. Either way the reading is stored as stamped; this only counts it.
 */
export function timeTrust(ts: number, receivedAt: number): "ok" | "late" | "suspect" {
  if (!(ts >= CLOCK_FLOOR_MS) || ts > receivedAt + CLOCK_AHEAD_MS) return "suspect";
  return ts < receivedAt - LATE_MS ? "late" : "ok";
}
