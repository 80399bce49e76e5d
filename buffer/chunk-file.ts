import { type Frame, type ScanResult, scanFrames } from "../common/record-frame.js";
import { type ChunkHeader, decodeHeader } from "./chunk-header.js";

/**
 * A chunk file is a header followed by record frames and, once sealed, one seal trailer
 * frame. Files are named by chunk id in fixed-width hex so a directory listing sorts in
 * id order: `streams/<stream>/<id:16 hex>.chunk`.
 */
export const CHUNK_SUFFIX = ".chunk";

export function chunkFileName(chunkId: number): string {
  return `${chunkId.toString(16).padStart(16, "0")}${CHUNK_SUFFIX}`;
}

export function parseChunkFileName(name: string): number | undefined {
  const m = /^([0-9a-f]{16})\.chunk$/.exec(name);
  return m?.[1] ? Number.parseInt(m[1], 16) : undefined;
}

export interface ParsedChunk {
  /** Undefined when the header is damaged. */
  header: (ChunkHeader & { size: number }) | undefined;
  scan: ScanResult;
  size: number;
}

export function parseChunk(buf: Buffer, maxRecordBytes: number): ParsedChunk {
  const header = decodeHeader(buf);
  const scan = scanFrames(buf, header?.size ?? 0, maxRecordBytes);
  if (!header && scan.records.length > 0) {
    const first = scan.records[0] as Frame;
    if (first.start > 0) scan.damaged.unshift({ offset: 0, length: first.start });
  }
  return { header, scan, size: buf.length };
}

/** Sealed and undamaged: header intact, every byte an intact frame, trailer agreeing. */
export function isIntact(chunk: ParsedChunk): boolean {
  const { header, scan, size } = chunk;
  const seal = scan.seal;
  if (!header || !seal || scan.damaged.length > 0 || scan.validEnd !== size) return false;
  const first = scan.records[0];
  const last = scan.records.at(-1);
  return (
    seal.count === scan.records.length &&
    (scan.records.length === 0 || (first?.seq === seal.firstSeq && last?.seq === seal.lastSeq))
  );
}
