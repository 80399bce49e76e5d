import { join } from "node:path";
import { readCheckpoint } from "./checkpoint.js";
import { parseChunk, parseChunkFileName } from "./chunk-file.js";
import { BUFFER_DEFAULTS, STREAM_NAME } from "./config.js";
import { type FileLayer, realFileLayer } from "./file-layer.js";
import type { StreamMetrics } from "./metrics.js";

/**
 * Read-only views of a buffer directory for operators (`outpost buffer cat|stat`): they
 * take no lock and change nothing, so they work while a writer runs or after a crash.
 * Chunks the checkpoint lists as delivered are skipped; a torn tail is ignored and a
 * damaged range skipped, exactly as recovery would treat them.
 */
export interface UndeliveredRecord {
  stream: string;
  chunkId: number;
  seq: number;
  /** The chunk header's schema fingerprint; undefined when the header is damaged. */
  schema: Buffer | undefined;
  payload: Buffer;
}

interface ChunkFile {
  stream: string;
  id: number;
  path: string;
}

async function undeliveredChunks(
  fs: FileLayer,
  dir: string,
  stream?: string,
): Promise<ChunkFile[]> {
  const cp = await readCheckpoint(fs, dir);
  const streamsDir = join(dir, "streams");
  const names = stream
    ? [stream]
    : (await fs.readdir(streamsDir).catch(() => [])).filter((n) => STREAM_NAME.test(n));
  const files: ChunkFile[] = [];
  for (const name of names) {
    const removed = new Set(cp.state === "ok" ? (cp.data.streams[name]?.removed ?? []) : []);
    const entries = await fs.readdir(join(streamsDir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return [] as string[];
      throw err;
    });
    for (const entry of entries) {
      const id = parseChunkFileName(entry);
      if (id !== undefined && !removed.has(id))
        files.push({ stream: name, id, path: join(streamsDir, name, entry) });
    }
  }
  return files.sort((a, b) => a.id - b.id);
}

/** Every undelivered record, in append order (chunk id order across streams). */
export async function* readUndelivered(
  dir: string,
  options: { stream?: string; fs?: FileLayer; maxRecordBytes?: number } = {},
): AsyncGenerator<UndeliveredRecord> {
  const fs = options.fs ?? realFileLayer;
  for (const chunk of await undeliveredChunks(fs, dir, options.stream)) {
    let buf: Buffer;
    try {
      buf = await fs.readFile(chunk.path);
    } catch (err) {
      // Delivered and deleted by a running writer since the listing.
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw err;
    }
    const parsed = parseChunk(buf, options.maxRecordBytes ?? BUFFER_DEFAULTS.maxRecordBytes);
    for (const f of parsed.scan.records) {
      yield {
        stream: chunk.stream,
        chunkId: chunk.id,
        seq: f.seq,
        schema: parsed.header?.schema,
        payload: buf.subarray(f.payloadStart, f.payloadEnd),
      };
    }
  }
}

export interface BufferStat extends StreamMetrics {
  dir: string;
  streams: Record<string, StreamMetrics & { damagedChunks: number }>;
  droppedChunks: number;
  droppedRecords: number;
  corruptChunks: number;
  lostRecords: number;
  deliveredChunks: number;
  deliveredRecords: number;
  pendingLossEvents: number;
  /** Files in `corrupt/` (copies of quarantined chunks and their reports). */
  quarantinedFiles: number;
  checkpoint: "ok" | "missing" | "damaged";
}

/** Backlog and counters of a buffer directory, read from its files. */
export async function statBuffer(
  dir: string,
  options: { fs?: FileLayer } = {},
): Promise<BufferStat> {
  const fs = options.fs ?? realFileLayer;
  const cp = await readCheckpoint(fs, dir);
  const now = Date.now();
  const stat: BufferStat = {
    dir,
    backlogChunks: 0,
    backlogRecords: 0,
    backlogBytes: 0,
    oldestUndeliveredAgeMs: 0,
    streams: {},
    droppedChunks: 0,
    droppedRecords: 0,
    corruptChunks: 0,
    lostRecords: 0,
    deliveredChunks: 0,
    deliveredRecords: 0,
    pendingLossEvents: 0,
    quarantinedFiles: (await fs.readdir(join(dir, "corrupt")).catch(() => [])).length,
    checkpoint: cp.state,
  };
  if (cp.state === "ok") {
    Object.assign(stat, cp.data.totals);
    stat.pendingLossEvents = cp.data.losses.length;
  }
  for (const chunk of await undeliveredChunks(fs, dir)) {
    const buf = await fs.readFile(chunk.path).catch(() => undefined);
    if (!buf) continue;
    const parsed = parseChunk(buf, BUFFER_DEFAULTS.maxRecordBytes);
    const s = stat.streams[chunk.stream] ?? {
      backlogChunks: 0,
      backlogRecords: 0,
      backlogBytes: 0,
      oldestUndeliveredAgeMs: 0,
      damagedChunks: 0,
    };
    stat.streams[chunk.stream] = s;
    s.backlogChunks++;
    s.backlogRecords += parsed.scan.records.length;
    s.backlogBytes += buf.length;
    if (parsed.scan.damaged.length > 0 || !parsed.header) s.damagedChunks++;
    const age = parsed.header ? Math.max(0, now - parsed.header.createdAt) : 0;
    s.oldestUndeliveredAgeMs = Math.max(s.oldestUndeliveredAgeMs, age);
    stat.backlogChunks++;
    stat.backlogRecords += parsed.scan.records.length;
    stat.backlogBytes += buf.length;
    stat.oldestUndeliveredAgeMs = Math.max(stat.oldestUndeliveredAgeMs, age);
  }
  return stat;
}
