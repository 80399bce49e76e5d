import type { BufferCore } from "./buffer-core.js";
import { isIntact, parseChunk } from "./chunk-file.js";
import type { ChunkRef } from "./chunk-ref.js";
import { retireChunk } from "./chunk-retire.js";
import { quarantineChunk } from "./corrupt-chunk.js";
import type { StreamState } from "./stream-state.js";

/** A sealed chunk read back for sending, verified record by record. */
export interface LoadedChunk {
  ref: ChunkRef;
  schema: Buffer;
  /** The record frames, exactly as on disk. */
  frames: Buffer;
}

const EMPTY = Buffer.alloc(0);

/**
 * The sending side of the buffer, as the forwarder drives it: which chunk goes next
 * (highest priority stream first, ties to the oldest chunk, each stream strictly in
 * order), reading it back verified, and forgetting it once the sink acknowledged it.
 */
export function nextToSend(core: BufferCore): ChunkRef | undefined {
  let best: { ref: ChunkRef; priority: number } | undefined;
  for (const st of core.streams.values()) {
    const ref = st.firstQueued();
    // A suspect chunk is being quarantined; the stream waits so its order holds.
    if (!ref || ref.suspect) continue;
    const priority = st.config.priority;
    if (!best || priority > best.priority || (priority === best.priority && ref.id < best.ref.id)) {
      best = { ref, priority };
    }
  }
  if (best) best.ref.state = "sending";
  return best?.ref;
}

/**
 * Reads a chunk for sending; a damaged chunk is quarantined first and its intact
 * records sent. Undefined when nothing of the chunk is left to send.
 */
export async function loadForSend(
  core: BufferCore,
  ref: ChunkRef,
): Promise<LoadedChunk | undefined> {
  const st = core.streams.get(ref.stream) as StreamState;
  let buf = await core.fs.readFile(ref.path);
  let parsed = parseChunk(buf, core.config.maxRecordBytes);
  if (!isIntact(parsed) || ref.suspect) {
    await quarantineChunk(core, st, ref, buf);
    core.notify();
    if (!st.sealed.includes(ref)) return undefined;
    buf = await core.fs.readFile(ref.path);
    parsed = parseChunk(buf, core.config.maxRecordBytes);
  }
  const first = parsed.scan.records[0];
  const last = parsed.scan.records.at(-1);
  return {
    ref,
    schema: parsed.header?.schema ?? EMPTY,
    frames: first && last ? buf.subarray(first.start, last.end) : EMPTY,
  };
}

/** The sink has durably committed `ref`: count it, forget it, then delete its file. */
export async function acknowledgeChunk(core: BufferCore, ref: ChunkRef): Promise<void> {
  const st = core.streams.get(ref.stream) as StreamState;
  if (!st.forget(ref)) return;
  core.totals.deliveredChunks++;
  core.totals.deliveredRecords += ref.records;
  core.deliverRate.add(ref.records);
  await retireChunk(core, st, ref);
}
