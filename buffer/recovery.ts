import { join } from "node:path";
import { encodeSeal, frameAt, readSeal, SEAL_FRAME_BYTES } from "../common/record-frame.js";
import { chunkFileName, parseChunk, parseChunkFileName } from "./chunk-file.js";
import { decodeHeader, MAX_HEADER_BYTES } from "./chunk-header.js";
import type { ChunkRef } from "./chunk-ref.js";
import type { FileLayer } from "./file-layer.js";

/**
 * Opening a stream's directory. It never fails on bad data: a sealed chunk whose header
 * and trailer check out is taken as is (its records are verified when it is sent); the
 * newest chunk, which may have been open when the process died, is scanned and cut back
 * to its last intact record, then sealed; anything else damaged is marked suspect and
 * quarantined later, so start-up costs one header and one trailer read per chunk.
 */
export interface RecoveredStream {
  chunks: ChunkRef[];
  /** One past the highest sequence number found in the files. */
  nextSequence: number;
  highestChunkId: number;
  /** Truncated-tail repairs and leftovers removed, for the log. */
  repaired: number;
}

export async function recoverStream(
  fs: FileLayer,
  dir: string,
  stream: string,
  removed: ReadonlySet<number>,
  maxRecordBytes: number,
): Promise<RecoveredStream> {
  const names = (await fs.readdir(dir)).sort();
  let unlinked = false;
  let repaired = 0;
  const ids: number[] = [];
  for (const name of names) {
    const id = parseChunkFileName(name);
    if (id !== undefined && !removed.has(id)) ids.push(id);
    else if (id !== undefined || name.endsWith(".tmp")) {
      await fs.unlink(join(dir, name));
      unlinked = true;
    }
  }
  let highestChunkId = 0;
  const chunks: ChunkRef[] = [];
  for (const [i, id] of ids.entries()) {
    highestChunkId = Math.max(highestChunkId, id);
    const path = join(dir, chunkFileName(id));
    const newest = i === ids.length - 1;
    const quick = await quickOpen(fs, path, id, stream, maxRecordBytes);
    if (quick) {
      chunks.push(quick);
      continue;
    }
    const buf = await fs.readFile(path);
    const parsed = parseChunk(buf, maxRecordBytes);
    const { records, damaged } = parsed.scan;
    const headerOk = parsed.header?.chunkId === id && parsed.header.stream === stream;
    if (newest && damaged.length === 0 && (headerOk || records.length === 0)) {
      // The chunk that was open when the process stopped (possibly before its header was
      // complete): keep every intact record, cut the torn rest.
      const last = records.at(-1);
      if (!last) {
        await fs.unlink(path);
        unlinked = true;
        continue;
      }
      const end = last.end;
      await fs.truncate(path, end);
      const first = records[0] ?? last;
      const file = await fs.openForAppend(path);
      try {
        await file.append(encodeSeal(records.length, first.seq, last.seq));
        await file.datasync();
      } finally {
        await file.close();
      }
      repaired++;
      chunks.push({
        id,
        stream,
        path,
        bytes: end + SEAL_FRAME_BYTES,
        records: records.length,
        firstSeq: first.seq,
        lastSeq: last.seq,
        createdAt: parsed.header?.createdAt ?? Date.now(),
        state: "queued",
        suspect: false,
      });
      continue;
    }
    chunks.push({
      id,
      stream,
      path,
      bytes: buf.length,
      records: records.length,
      firstSeq: parsed.scan.seal?.firstSeq ?? records[0]?.seq ?? 0,
      lastSeq: parsed.scan.seal?.lastSeq ?? records.at(-1)?.seq ?? 0,
      createdAt: parsed.header?.createdAt ?? Date.now(),
      state: "queued",
      suspect: true,
    });
  }
  if (unlinked || repaired > 0) await fs.fsyncDir(dir);
  const nextSequence = chunks.reduce((n, c) => Math.max(n, c.lastSeq + 1), 1);
  return { chunks, nextSequence, highestChunkId, repaired };
}

/** A chunk whose header and seal trailer are intact, from two small reads. */
async function quickOpen(
  fs: FileLayer,
  path: string,
  id: number,
  stream: string,
  maxRecordBytes: number,
): Promise<ChunkRef | undefined> {
  const size = await fs.size(path);
  const header = decodeHeader(await fs.readRange(path, 0, MAX_HEADER_BYTES));
  if (!header || header.chunkId !== id || header.stream !== stream) return undefined;
  if (size < header.size + SEAL_FRAME_BYTES) return undefined;
  const tail = await fs.readRange(path, size - SEAL_FRAME_BYTES, SEAL_FRAME_BYTES);
  const frame = frameAt(tail, 0, maxRecordBytes);
  const seal = frame && readSeal(tail, frame);
  if (!seal) return undefined;
  return {
    id,
    stream,
    path,
    bytes: size,
    records: seal.count,
    firstSeq: seal.firstSeq,
    lastSeq: seal.lastSeq,
    createdAt: header.createdAt,
    state: "queued",
    suspect: false,
  };
}
