import { RealtimeError } from "../errors.js";
import type { HistogramBuckets } from "./report.js";

/** One cyclictest measurement thread, from its `--json` file, in µs. */
export interface CyclictestThread {
  thread: number;
  cpu: number;
  samples: number;
  min: number;
  /** cyclictest rounds it to 0.01 µs. */
  avg: number;
  max: number;
  /** Samples beyond the `-h` range: cycles minus the histogram's total. */
  overflow: number;
  histogram: HistogramBuckets;
}

/** cyclictest's `--json` output is not what this parser knows (rt-tests 2.x). */
export class CyclictestOutputError extends RealtimeError {
  readonly code = "E_CYCLICTEST_OUTPUT";
  constructor(reason: string) {
    super(`unexpected cyclictest --json output: ${reason}`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function numberAt(obj: Record<string, unknown>, key: string, where: string): number {
  const v = obj[key];
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new CyclictestOutputError(`${where}.${key} is not a number`);
  }
  return v;
}

/** Pure: the threads of a cyclictest `--json=FILE` document (run with `-h` for histograms). */
export function parseCyclictestJson(text: string): CyclictestThread[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new CyclictestOutputError(`not JSON (${(err as Error).message})`);
  }
  if (!isRecord(doc) || !isRecord(doc.thread))
    throw new CyclictestOutputError("no 'thread' object");
  return Object.entries(doc.thread)
    .map(([id, t]) => {
      const where = `thread.${id}`;
      if (!isRecord(t)) throw new CyclictestOutputError(`${where} is not an object`);
      if (!isRecord(t.histogram)) {
        throw new CyclictestOutputError(`${where}.histogram missing (run cyclictest with -h)`);
      }
      const histogram: HistogramBuckets = Object.entries(t.histogram)
        .map(([us, count]): [number, number] => {
          if (!/^\d+$/.test(us) || typeof count !== "number") {
            throw new CyclictestOutputError(`${where}.histogram has a bad bucket '${us}'`);
          }
          return [Number(us), count];
        })
        .filter(([, count]) => count > 0)
        .sort(([a], [b]) => a - b);
      const samples = numberAt(t, "cycles", where);
      const inRange = histogram.reduce((sum, [, count]) => sum + count, 0);
      return {
        thread: Number(id),
        cpu: numberAt(t, "cpu", where),
        samples,
        min: numberAt(t, "min", where),
        avg: numberAt(t, "avg", where),
        max: numberAt(t, "max", where),
        overflow: samples - inRange,
        histogram,
      };
    })
    .sort((a, b) => a.thread - b.thread);
}
