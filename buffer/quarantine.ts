import { basename, dirname, join } from "node:path";
import { encodeSeal } from "../common/record-frame.js";
import type { ParsedChunk } from "./chunk-file.js";
import { encodeHeader } from "./chunk-header.js";
import type { ChunkRef } from "./chunk-ref.js";
import type { FileLayer } from "./file-layer.js";

/**
 * Handling a damaged chunk, in an order that is safe to repeat after a crash at any step:
 * 1. a copy of the file and a JSON report go to `corrupt/` (synced);
 * 2. the caller records the lost sequence ranges in the checkpoint (once per chunk id);
 * 3. the intact records are rewritten under the same chunk id (temp file, fdatasync,
 *    rename over the original, directory fsync), so the sink's dedupe by chunk id still
 *    holds and every intact record is delivered.
 */
export interface SeqRange {
  from: number;
  to: number;
}

/** Gaps in `seqs` (ascending) within [expectedFirst, expectedLast]. */
export function lostRanges(
  seqs: readonly number[],
  expectedFirst: number,
  expectedLast: number,
): SeqRange[] {
  const ranges: SeqRange[] = [];
  let next = expectedFirst;
  for (const seq of seqs) {
    if (seq > next) ranges.push({ from: next, to: seq - 1 });
    next = Math.max(next, seq + 1);
  }
  if (expectedLast >= next) ranges.push({ from: next, to: expectedLast });
  return ranges;
}

export interface QuarantineReport {
  chunkId: number;
  stream: string;
  detectedAt: string;
  size: number;
  headerIntact: boolean;
  damaged: { offset: number; length: number }[];
  intactRecords: number;
  lost: SeqRange[];
}

export async function copyToQuarantine(
  fs: FileLayer,
  corruptDir: string,
  original: Buffer,
  report: QuarantineReport,
): Promise<void> {
  const base = `${report.stream}-${report.chunkId.toString(16).padStart(16, "0")}`;
  for (const [name, content] of [
    [`${base}.chunk`, original],
    [`${base}.json`, Buffer.from(`${JSON.stringify(report, null, 2)}\n`)],
  ] as const) {
    const path = join(corruptDir, name);
    await fs.unlink(path).catch(() => undefined);
    const file = await fs.createExclusive(path);
    try {
      await file.append(content);
      await file.datasync();
    } finally {
      await file.close();
    }
  }
  await fs.fsyncDir(corruptDir);
}

/** Rewrites the chunk with only its intact records; returns its new shape. */
export async function writeSalvage(
  fs: FileLayer,
  ref: ChunkRef,
  original: Buffer,
  parsed: ParsedChunk,
): Promise<Pick<ChunkRef, "bytes" | "records" | "firstSeq" | "lastSeq">> {
  const records = parsed.scan.records;
  const header = encodeHeader({
    chunkId: ref.id,
    stream: ref.stream,
    createdAt: parsed.header?.createdAt ?? ref.createdAt,
    schema: parsed.header?.schema ?? Buffer.alloc(0),
  });
  const firstSeq = records[0]?.seq ?? 0;
  const lastSeq = records.at(-1)?.seq ?? 0;
  const parts = [header, ...records.map((f) => original.subarray(f.start, f.end))];
  parts.push(encodeSeal(records.length, firstSeq, lastSeq));
  const content = Buffer.concat(parts);
  const temp = join(dirname(ref.path), `${basename(ref.path)}.tmp`);
  await fs.unlink(temp).catch(() => undefined);
  const file = await fs.createExclusive(temp);
  try {
    await file.append(content);
    await file.datasync();
  } finally {
    await file.close();
  }
  await fs.rename(temp, ref.path);
  await fs.fsyncDir(dirname(ref.path));
  return { bytes: content.length, records: records.length, firstSeq, lastSeq };
}
