import { readFileSync } from "node:fs";
import Database from "better-sqlite3";
import { Context } from "zeromq";
import { encodeRecord, RECORD_SCHEMA, RECORD_SCHEMA_FINGERPRINT } from "../../collector/record.js";
import { encodeRecords } from "../../common/record-frame.js";
import { MasterClient } from "../../master/index.js";
import { getRlimit, setRlimit } from "../../native/index.js";
import { generateKeyPair, type KeyPair, NodeLink } from "../../protocol/index.js";
import type { PostgresServer } from "../../test/helpers/postgres-server.js";
import type { StartedMaster } from "./master-process.js";

/**
 * The telemetry load the ingest and scale benches put on masters: N simulated nodes (each
 * a DEALER with its own CURVE key, all in this process) give the master the collector's
 * record schema, then forward chunks of real collector records (Avro, in buffer frames)
 * over loopback, one chunk in flight per node as a forwarder does.
 */
export interface LoadShape {
  chunksPerNode: number;
  recordsPerChunk: number;
  tagsPerNode: number;
}

export const SCHEMA_TEXT = JSON.stringify(RECORD_SCHEMA);

/** One master as the load sees it: where nodes connect and where the admin API is. */
export interface LoadTarget {
  started: StartedMaster;
  token: string;
}

/**
 * Chunk `c` of every node: what a collector polling `tagsPerNode` tags of one turbine
 * writes (doubles, a 64-bit energy counter every tenth tag), framed as its buffer frames
 * them. Bodies are the same for every node (the node is not in the records).
 */
export class TelemetryLoad {
  readonly bodies: Buffer[];
  private readonly start = Date.now() - 60_000;

  constructor(readonly shape: LoadShape) {
    const { chunksPerNode, recordsPerChunk, tagsPerNode } = shape;
    this.bodies = Array.from({ length: chunksPerNode }, (_, c) => {
      const records = Array.from({ length: recordsPerChunk }, (_, i) => {
        const n = c * recordsPerChunk + i;
        const tag = n % tagsPerNode;
        return encodeRecord({
          device: "turbine",
          tag: `tag-${tag}`,
          ts: this.start + Math.floor(n / tagsPerNode) * 100,
          value: tag % 10 === 9 ? 2n ** 40n + BigInt(n) : Math.sin(n) * 100,
          quality: "good",
          unit: tag % 10 === 9 ? "Wh" : "rpm",
        });
      });
      return encodeRecords(records, c * recordsPerChunk + 1);
    });
  }

  /** Records every node sends in all. */
  records(nodes: number): number {
    return nodes * this.shape.chunksPerNode * this.shape.recordsPerChunk;
  }

  chunkOf(chunkId: number) {
    const { recordsPerChunk } = this.shape;
    return {
      chunkId,
      stream: "turbine",
      schema: RECORD_SCHEMA_FINGERPRINT,
      createdAt: Date.now(),
      firstSeq: chunkId * recordsPerChunk + 1,
      lastSeq: (chunkId + 1) * recordsPerChunk,
      records: recordsPerChunk,
      compression: "none" as const,
      body: this.bodies[chunkId] as Buffer,
    };
  }

  /**
   * Adds `nodes` nodes through the first target's API (the store is shared when there are
   * several), links node i to target i mod targets.length, handshakes and schema first,
   * then every node sends its chunks one at a time. Resolves with the forwarding time
   * (handshakes and schema excluded: the figure is about forwarding) and every ack's
   * latency, sorted.
   */
  async drive(
    nodes: number,
    targets: LoadTarget[],
  ): Promise<{ seconds: number; latencies: number[] }> {
    const first = targets[0] as LoadTarget;
    const client = new MasterClient(first.started.url, first.token);
    const keys: KeyPair[] = [];
    for (let i = 0; i < nodes; i++) {
      const pair = generateKeyPair();
      await client.addNode(`node-${i}`, pair.publicKey);
      keys.push(pair);
    }
    const context = new Context({ maxSockets: nodes * 2 + 16 });
    const links = keys.map((keyPair, i) => {
      const target = (targets[i % targets.length] as LoadTarget).started;
      return new NodeLink({
        endpoint: target.endpoint,
        masterPublicKey: target.publicKey,
        keyPair,
        context,
        observe: false,
        timeoutMs: 120_000,
      });
    });
    try {
      await Promise.all(links.map((l) => l.sync()));
      await Promise.all(
        links.map((l) =>
          l.sendSchema({ fingerprint: RECORD_SCHEMA_FINGERPRINT, schema: SCHEMA_TEXT }),
        ),
      );
      const latencies: number[] = [];
      const start = process.hrtime.bigint();
      await Promise.all(
        links.map(async (link) => {
          for (let c = 0; c < this.shape.chunksPerNode; c++) {
            const t = process.hrtime.bigint();
            const ack = await link.send(this.chunkOf(c));
            if (ack.duplicate) throw new Error("fresh chunk acked as duplicate");
            latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
          }
        }),
      );
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      latencies.sort((a, b) => a - b);
      return { seconds, latencies };
    } finally {
      await Promise.all(links.map((l) => l.close()));
    }
  }
}

/**
 * Raises the soft RLIMIT_NOFILE to the hard one (children inherit it) for `nodes` DEALERs
 * of about 3 descriptors each here and one each in a master; refuses, naming the bench,
 * when the hard limit is too low. Returns the limit.
 */
export function raiseFileLimit(bench: string, nodes: number): number {
  const needed = nodes * 4 + 256;
  const { hard } = getRlimit(process.pid, "nofile");
  if (hard < needed) {
    process.stderr.write(
      `bench ${bench}: ${nodes} nodes need about ${needed} open files, the hard RLIMIT_NOFILE is ${hard}\n`,
    );
    process.exit(1);
  }
  setRlimit(process.pid, "nofile", { soft: hard, hard });
  return hard;
}

export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Ingest transactions a master committed so far (its `/metrics`). */
export async function commitCount(url: string, token: string): Promise<number> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return Number(/^outpost_master_ingest_commit_seconds_count (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

export async function countPostgresReadings(pg: PostgresServer, database: string): Promise<number> {
  const [row] = await pg.admin(database)`SELECT count(*)::int AS n FROM readings`;
  return Number(row?.n);
}

export function countSqliteReadings(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare("SELECT count(*) FROM readings").pluck().get() as number;
  } finally {
    db.close();
  }
}
