import type { Logger } from "../common/index.js";
import { Collector } from "./collector.js";
import type { CollectorConfig } from "./config.js";
import type { TelemetryRecord } from "./record.js";

/**
 * Reads every tag once, for commissioning a register map: polled devices are gathered
 * once, subscribed ones give their first notification. A tag with no reading within
 * `waitMs` is reported with quality `timeout`, so every tag gets exactly one record.
 */
export async function readOnce(
  config: CollectorConfig,
  logger: Logger,
  waitMs = 10_000,
): Promise<TelemetryRecord[]> {
  const latest = new Map<string, TelemetryRecord>();
  const key = (device: string, tag: string) => `${device}\u0000${tag}`;
  const expected = config.devices.reduce((n, d) => n + d.tags.length, 0);
  let done: () => void = () => {};
  const complete = new Promise<void>((resolve) => {
    done = resolve;
  });
  const collector = new Collector(config, {
    logger,
    backoff: { initialMs: waitMs, maxMs: waitMs },
    output: {
      async write(records) {
        for (const r of records) {
          const k = key(r.device, r.tag);
          // The first reading counts; a later good one replaces an early bad one.
          const seen = latest.get(k);
          if (!seen || (seen.quality !== "good" && r.quality === "good")) latest.set(k, r);
        }
        if (latest.size >= expected) done();
      },
    },
  });
  await collector.start();
  const timer = setTimeout(done, waitMs);
  await complete;
  clearTimeout(timer);
  await collector.stop();
  const ts = Date.now();
  return config.devices.flatMap((d) =>
    d.tags.map((t) => {
      const r = latest.get(key(d.name, t.name));
      if (r) return r;
      const missing: TelemetryRecord = {
        device: d.name,
        tag: t.name,
        ts,
        value: null,
        quality: "timeout",
      };
      if (t.unit !== undefined) missing.unit = t.unit;
      return missing;
    }),
  );
}
