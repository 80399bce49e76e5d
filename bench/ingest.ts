import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Context } from "zeromq";
import { MasterClient, SqliteStore, type StoredChunk } from "../master/index.js";
import { getRlimit, setRlimit } from "../native/index.js";
import { generateKeyPair, type KeyPair, NodeLink } from "../protocol/index.js";
import { report } from "./report.js";

/**
 * Telemetry ingest over the real link: N simulated nodes (each a DEALER with its own
 * CURVE key, all in this process) forward chunks over loopback to a master running as
 * `outpost master start` in a child process, one chunk in flight per node as a
 * forwarder does. Ours: records committed per second (acked = committed). Baseline, same
 * run: the same chunks inserted straight into a SqliteStore, one transaction per round
 * of N chunks, no network. Also: p99 ack latency and the master's peak RSS.
 *
 *   npm run bench -- ingest [--nodes 100,1000] [--chunks 20] [--records 100]
 *                           [--record-bytes 64]
 *
 * 1,000 DEALERs need about 3 descriptors each here and one each in the master: the soft
 * RLIMIT_NOFILE is raised to the hard one (the master inherits it), and a hard limit too
 * low for the largest N is refused before anything starts.
 */
const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    nodes: { type: "string", default: "100,1000" },
    chunks: { type: "string", default: "20" },
    records: { type: "string", default: "100" },
    "record-bytes": { type: "string", default: "64" },
  },
});

function wholeNumber(key: string, text: string): number {
  if (!/^[1-9]\d{0,6}$/.test(text)) {
    process.stderr.write(`bench ingest: --${key} must be a whole number above 0\n`);
    process.exit(2);
  }
  return Number(text);
}

const nodeCounts = args.nodes.split(",").map((n) => wholeNumber("nodes", n));
const chunksPerNode = wholeNumber("chunks", args.chunks);
const recordsPerChunk = wholeNumber("records", args.records);
const recordBytes = wholeNumber("record-bytes", args["record-bytes"]);
const body = Buffer.alloc(recordsPerChunk * recordBytes, 0x5a);

function raiseFileLimit(nodes: number): number {
  const needed = nodes * 4 + 256;
  const { hard } = getRlimit(process.pid, "nofile");
  if (hard < needed) {
    process.stderr.write(
      `bench ingest: ${nodes} nodes need about ${needed} open files, the hard RLIMIT_NOFILE is ${hard}\n`,
    );
    process.exit(1);
  }
  setRlimit(process.pid, "nofile", { soft: hard, hard });
  return hard;
}

function chunkOf(chunkId: number) {
  return {
    chunkId,
    stream: "turbine",
    schema: Buffer.from("bench-schema"),
    createdAt: Date.now(),
    firstSeq: chunkId * recordsPerChunk,
    lastSeq: (chunkId + 1) * recordsPerChunk - 1,
    records: recordsPerChunk,
    compression: "none" as const,
    body,
  };
}

interface Started {
  url: string;
  endpoint: string;
  publicKey: string;
}

async function startMaster(data: string): Promise<{ child: ChildProcess; started: Started }> {
  const child = spawn(
    process.execPath,
    [
      join(here, "..", "cli", "main.js"),
      "master",
      "start",
      "--data",
      data,
      "--listen",
      "tcp://127.0.0.1:*",
      "--http",
      "127.0.0.1:0",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const started = await new Promise<Started>((resolve, reject) => {
    let seen = "";
    const onData = (c: Buffer): void => {
      seen += c.toString("utf8");
      const line = seen.split("\n").find((l) => l.includes('"master.started"'));
      if (!line) return;
      child.stderr?.off("data", onData);
      child.stderr?.resume();
      resolve(JSON.parse(line) as Started);
    };
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`master exited ${code}: ${seen}`)));
  });
  return { child, started };
}

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function overTheLink(
  nodes: number,
): Promise<{ recordsPerSec: number; p99: number; rss: number }> {
  const data = mkdtempSync(join(tmpdir(), "outpost-bench-ingest-"));
  const { child, started } = await startMaster(data);
  const context = new Context({ maxSockets: nodes * 2 + 16 });
  const links: NodeLink[] = [];
  try {
    const client = new MasterClient(
      started.url,
      readFileSync(join(data, "admin.token"), "utf8").trim(),
    );
    const keys: KeyPair[] = [];
    for (let i = 0; i < nodes; i++) {
      const pair = generateKeyPair();
      await client.addNode(`node-${i}`, pair.publicKey);
      keys.push(pair);
    }
    for (const pair of keys) {
      links.push(
        new NodeLink({
          endpoint: started.endpoint,
          masterPublicKey: started.publicKey,
          keyPair: pair,
          context,
          observe: false,
          timeoutMs: 120_000,
        }),
      );
    }
    // Handshakes first: the figure is about forwarding, not about connecting.
    await Promise.all(links.map((l) => l.sync()));
    const latencies: number[] = [];
    const start = process.hrtime.bigint();
    await Promise.all(
      links.map(async (link) => {
        for (let c = 0; c < chunksPerNode; c++) {
          const t = process.hrtime.bigint();
          const ack = await link.send(chunkOf(c));
          if (ack.duplicate) throw new Error("fresh chunk acked as duplicate");
          latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    latencies.sort((a, b) => a - b);
    const rss = peakRssMiB(child.pid ?? 0);
    return {
      recordsPerSec: (nodes * chunksPerNode * recordsPerChunk) / seconds,
      p99: percentile(latencies, 99),
      rss,
    };
  } finally {
    await Promise.all(links.map((l) => l.close()));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
    rmSync(data, { recursive: true, force: true });
  }
}

async function straightIntoStore(nodes: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "outpost-bench-store-"));
  const store = SqliteStore.open(join(dir, "master.db"));
  try {
    const start = process.hrtime.bigint();
    for (let c = 0; c < chunksPerNode; c++) {
      const round: StoredChunk[] = [];
      for (let n = 0; n < nodes; n++)
        round.push({ ...chunkOf(c), node: `node-${n}`, receivedAt: Date.now() });
      await store.ingestChunks(round);
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return (nodes * chunksPerNode * recordsPerChunk) / seconds;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const extra: Record<string, number | string> = {
  chunks_per_node: chunksPerNode,
  records_per_chunk: recordsPerChunk,
  record_bytes: recordBytes,
};
extra.nofile = raiseFileLimit(Math.max(...nodeCounts));
let ours = 0;
let baseline = 0;
let largest = 0;
for (const n of nodeCounts) {
  const link = await overTheLink(n);
  const store = await straightIntoStore(n);
  extra[`n${n}_records_per_s`] = Math.round(link.recordsPerSec);
  extra[`n${n}_baseline_records_per_s`] = Math.round(store);
  extra[`n${n}_ratio`] = Number((link.recordsPerSec / store).toFixed(3));
  extra[`n${n}_p99_ack_ms`] = Number(link.p99.toFixed(2));
  extra[`n${n}_master_peak_rss_mib`] = Number(link.rss.toFixed(1));
  largest = n;
  ours = link.recordsPerSec;
  baseline = store;
}
extra.nodes = largest;

report({
  name: "ingest",
  ours: Math.round(ours),
  baseline: Math.round(baseline),
  unit: `records/s committed (${largest} nodes over loopback CURVE vs straight into SQLite)`,
  better: "higher",
  extra,
});
