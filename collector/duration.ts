const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The JSON Schema of a duration: `100ms`, `1s`, `1.5s`, `2m`, `1h`, or a number of milliseconds. */
export const durationSchema = {
  anyOf: [
    { type: "string", pattern: "^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$" },
    { type: "number", minimum: 0 },
  ],
};

export type Duration = string | number;

/** Milliseconds of a duration already validated by `durationSchema`. */
export function toMs(duration: Duration): number {
  if (typeof duration === "number") return duration;
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/.exec(duration);
  if (!match) throw new TypeError(`not a duration: ${duration}`);
  return Math.round(Number(match[1]) * (UNITS[match[2] as string] as number));
}
