import { SEAL_FRAME_BYTES } from "../common/record-frame.js";
import type { BufferCore } from "./buffer-core.js";
import { ChunkWriter } from "./chunk-writer.js";
import { diskFullAsBufferFull } from "./errors.js";
import type { StreamState } from "./stream-state.js";

/**
 * Opening and sealing a stream's chunk. A chunk is sealed by the commit that brings it
 * to `sealBytes` (the append path), `sealAgeMs` after it was opened (a timer), or on
 * demand (close, `sealAll`, `drop_oldest` needing a victim, a new schema); a sealed chunk
 * is immutable and becomes sendable. Every function here runs inside `st.serial`.
 */
export async function openChunk(
  core: BufferCore,
  st: StreamState,
  schema: Buffer,
): Promise<ChunkWriter> {
  const id = core.nextChunkId++;
  const writer = await ChunkWriter.create(core.fs, st.dir, st.name, id, schema);
  st.active = writer;
  core.budget.addChunk();
  core.budget.addBytes(writer.headerBytes);
  armSealTimer(core, st, () => st.active === writer);
  return writer;
}

function armSealTimer(core: BufferCore, st: StreamState, stillDue: () => boolean): void {
  clearTimeout(st.sealTimer);
  st.sealTimer = setTimeout(() => {
    st.serial(async () => {
      if (stillDue()) await sealActive(core, st);
    }).catch((err: unknown) => core.logFailure(err, "chunk.seal_failed", { stream: st.name }));
  }, st.config.sealAgeMs);
  st.sealTimer.unref();
}

/** Seals the stream's open chunk, if any; one that holds no record is removed instead. */
export async function sealActive(core: BufferCore, st: StreamState): Promise<void> {
  const writer = st.active;
  if (!writer) return;
  clearTimeout(st.sealTimer);
  if (writer.records === 0) {
    st.active = undefined;
    await writer.discard().catch(() => undefined);
    core.budget.removeChunk(writer.headerBytes);
    return;
  }
  try {
    await writer.seal();
  } catch (err) {
    // Stays open; the next commit or the age timer tries again (a full disk may have room then).
    armSealTimer(core, st, () => st.active === writer);
    throw diskFullAsBufferFull(err, st.name, st.dir);
  }
  registerSealed(core, st, writer);
}

/**
 * The open chunk's trailer is written and synced (by `sealActive`, or by the append
 * path's commit sync): it becomes immutable and sendable.
 */
export function registerSealed(core: BufferCore, st: StreamState, writer: ChunkWriter): void {
  clearTimeout(st.sealTimer);
  core.budget.addBytes(SEAL_FRAME_BYTES);
  st.active = undefined;
  st.sealed.push({
    id: writer.chunkId,
    stream: st.name,
    path: writer.path,
    bytes: writer.bytes,
    records: writer.records,
    firstSeq: writer.firstSeq,
    lastSeq: writer.lastSeq,
    createdAt: writer.createdAt,
    state: "queued",
    suspect: false,
  });
  core.logger.debug(
    { stream: st.name, chunkId: writer.chunkId, records: writer.records },
    "chunk.sealed",
  );
  core.notify();
}
