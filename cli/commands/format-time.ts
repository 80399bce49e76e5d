/** A time of the master's answers for people: ISO 8601, or `never`. */
export function formatTime(ms: number | null): string {
  return ms === null ? "never" : new Date(ms).toISOString();
}
