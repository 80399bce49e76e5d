import { constants } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DiskBuffer, Forwarder, resolveConfig } from "../buffer/index.js";
import { startLocalSink } from "../test/helpers/local-sink/start.js";
import { TcpSink } from "../test/helpers/local-sink/tcp-sink.js";
import { report } from "./lib/report.js";

/**
 * The buffer's sustained append throughput with `fsync: batch` (group commit every
 * 10 ms), 100-byte records. Baseline, same run, same directory: the same records
 * written to one plain file with no framing, fdatasynced on the same 10 ms cadence —
 * what a bare append log costs on this disk. Both take the records as the same batches
 * with the same number of batches in flight. Then end-to-end forward throughput: the
 * backlog sent over loopback to the local test sink, which acknowledges each chunk only
 * after its own fdatasync. Also the peak RSS of this process.
 *
 * `npm run bench -- buffer [--records N] [--record-bytes B] [--batch N] [--in-flight N]
 *                          [--batch-ms MS] [--rounds N] [--dir PATH]`
 */
const { values: args } = parseArgs({
  options: {
    records: { type: "string", default: process.env.BENCH_RECORDS ?? "1000000" },
    "record-bytes": { type: "string", default: "100" },
    batch: { type: "string", default: "100" },
    "in-flight": { type: "string", default: "64" },
    "batch-ms": { type: "string", default: "10" },
    rounds: { type: "string", default: process.env.BENCH_ROUNDS ?? "3" },
    dir: { type: "string", default: tmpdir() },
  },
});
const settings = {
  records: Number(args.records),
  "record-bytes": Number(args["record-bytes"]),
  batch: Number(args.batch),
  "in-flight": Number(args["in-flight"]),
  "batch-ms": Number(args["batch-ms"]),
  rounds: Number(args.rounds),
};
for (const [key, value] of Object.entries(settings)) {
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`bench buffer: --${key} must be a whole number above 0\n`);
    process.exit(2);
  }
}
const { records: total, batch, rounds } = settings;
const inFlight = settings["in-flight"];
const batchMs = settings["batch-ms"];

/** The record batches both sides write: distinct 100-byte JSON-ish records. */
function makeBatch(first: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < batch && first + i < total; i++) {
    const text = `{"n":${first + i},"v":"`.padEnd(settings["record-bytes"] - 2, "x");
    out.push(Buffer.from(`${text}"}`));
  }
  return out;
}

/** Feeds every record through `write` with `inFlight` batches outstanding; records/s. */
async function drive(write: (records: Buffer[]) => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const records = makeBatch(next);
      next += records.length;
      await write(records);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return total / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** A bare append log: one file, the records' bytes as they are, one fdatasync per 10 ms. */
async function baselineRun(dir: string): Promise<number> {
  const handle = await open(
    join(dir, "plain.log"),
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
  );
  let queue: Buffer[] = [];
  let waiters: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let offset = 0;
  const commit = async () => {
    timer = undefined;
    const data = Buffer.concat(queue);
    const done = waiters;
    queue = [];
    waiters = [];
    await handle.write(data, 0, data.length, offset);
    offset += data.length;
    await handle.datasync();
    for (const w of done) w();
  };
  const kick = () => {
    running = (running ?? Promise.resolve()).then(commit);
  };
  try {
    return await drive(
      (records) =>
        new Promise<void>((resolve) => {
          queue.push(...records);
          waiters.push(resolve);
          timer ??= setTimeout(kick, batchMs);
        }),
    );
  } finally {
    clearTimeout(timer);
    await running;
    await handle.close();
  }
}

async function oursRun(dir: string): Promise<{ appendRate: number; forwardRate: number }> {
  const config = resolveConfig({
    dir,
    defaults: { fsync: "batch", batchMs },
    forward: { window: 8 },
  });
  const buffer = await DiskBuffer.open(config);
  try {
    const appendRate = await drive((records) => buffer.append("bench", records));
    await buffer.sealAll();
    const sinkDir = await mkdtemp(join(dir, "..", "sink-"));
    const sink = await startLocalSink(sinkDir);
    const forwarder = new Forwarder(buffer, new TcpSink("127.0.0.1", sink.port), config.forward);
    const start = process.hrtime.bigint();
    forwarder.start();
    while (buffer.metrics().backlogRecords > 0) await new Promise((r) => setTimeout(r, 5));
    const forwardRate = total / (Number(process.hrtime.bigint() - start) / 1e9);
    await forwarder.stop();
    await sink.stop();
    await rm(sinkDir, { recursive: true, force: true });
    return { appendRate, forwardRate };
  } finally {
    await buffer.close();
  }
}

let peakRss = 0;
const rssSampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);

const best = { ours: 0, baseline: 0, forward: 0 };
for (let round = 0; round < rounds; round++) {
  const work = await mkdtemp(join(args.dir, "outpost-bench-buffer-"));
  try {
    // Interleaved, taking turns at going first, so machine noise and disk state hit both
    // alike; each side's best round counts (the rate the disk allows when nothing else
    // interferes).
    const runBaseline = async () => {
      best.baseline = Math.max(best.baseline, await baselineRun(work));
    };
    const runOurs = async () => {
      const ours = await oursRun(join(work, "buf"));
      best.ours = Math.max(best.ours, ours.appendRate);
      best.forward = Math.max(best.forward, ours.forwardRate);
    };
    for (const run of round % 2 === 0 ? [runBaseline, runOurs] : [runOurs, runBaseline])
      await run();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
clearInterval(rssSampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);

report({
  name: "buffer",
  ours: Math.round(best.ours),
  baseline: Math.round(best.baseline),
  unit: "records/s appended durably (fsync batch)",
  better: "higher",
  extra: {
    forward_records_per_s: Math.round(best.forward),
    rss_peak_mib: Math.round((peakRss / 2 ** 20) * 10) / 10,
    records: total,
    record_bytes: settings["record-bytes"],
    batch,
    in_flight: inFlight,
    batch_ms: batchMs,
    rounds,
  },
});
