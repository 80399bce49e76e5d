import type { BufferCore } from "./buffer-core.js";
import type { ChunkWriter } from "./chunk-writer.js";
import { diskFullAsBufferFull } from "./errors.js";
import type { PendingAppend } from "./group-commit.js";
import { openChunk, registerSealed, sealActive } from "./sealer.js";
import type { StreamState } from "./stream-state.js";

/**
 * The write side of a group commit: every append of the batch is framed and written to
 * the stream's open chunk in one write; if that brings the chunk to `sealBytes`, its seal
 * trailer follows; then one fdatasync covers the lot (unless the policy is `never` and
 * nothing was sealed), so a commit costs one sync however it falls on chunks. Each
 * append resolves with its sequence numbers only once its bytes are covered; if the
 * write or the sync fails, the file is cut back and exactly the appends it held are
 * rejected (ENOSPC as `BufferFullError`), so a failed append leaves nothing behind.
 */
export async function commitBatch(
  core: BufferCore,
  st: StreamState,
  batch: PendingAppend[],
): Promise<void> {
  const batchBytes = batch.reduce((n, e) => n + e.bytes, 0);
  let filled: ChunkWriter | undefined;
  try {
    filled = await st.serial(() => writeBatch(core, st, batch));
  } finally {
    core.memory.release(batchBytes);
  }
  if (filled) {
    const { schema } = filled;
    await st.serial(() => openNext(core, st, schema));
  }
}

/**
 * A stream whose commit just filled a chunk is busy, so its next chunk is opened now,
 * while producers refill the batch, rather than at the start of the next commit (a file
 * create and a header write, on the commit's critical path otherwise). Only while the
 * budget has room for that chunk to fill up and still a chunk slot after it, so an empty
 * open chunk never takes room an append needs (near the limits, chunks open on demand as
 * before). A crash leaves it empty, and recovery removes empty chunks. If the open
 * fails, the next commit opens again and reports the error to its appends.
 */
async function openNext(core: BufferCore, st: StreamState, schema: Buffer): Promise<void> {
  const { budget } = core;
  if (st.active || core.closed) return;
  if (budget.chunks + 1 >= budget.maxChunks) return;
  if (budget.bytes + st.config.sealBytes > budget.maxBytes) return;
  await openChunk(core, st, schema).catch(() => undefined);
}

/** An append written to a chunk, with where that chunk stood before it. */
interface Placed {
  entry: PendingAppend;
  firstSeq: number;
  sizeBefore: number;
  recordsBefore: number;
}

/** Writes and syncs one batch; returns the chunk it filled and sealed, if it did. */
async function writeBatch(
  core: BufferCore,
  st: StreamState,
  batch: PendingAppend[],
): Promise<ChunkWriter | undefined> {
  const unsynced: Placed[] = [];
  const covered: Placed[] = [];
  let next = 0;
  let sealing = false;
  let failure: unknown;
  try {
    while (next < batch.length) {
      const schema = (batch[next] as PendingAppend).schema;
      if (st.active && !st.active.schema.equals(schema)) {
        // A chunk holds one schema: seal (and sync) the old one before the new schema.
        await sealActive(core, st);
        covered.push(...unsynced.splice(0));
      }
      const active = st.active ?? (await openChunk(core, st, schema));
      const run = sameSchemaRun(batch, next);
      const last = next + run.length === batch.length;
      const runBytes = run.reduce((n, e) => n + e.bytes, 0);
      // Full after this last write: its trailer goes into the same write, before the
      // commit's one sync, which then covers both.
      const seal = last && active.bytes + runBytes >= st.config.sealBytes;
      unsynced.push(...(await writeRun(st, active, run, seal)));
      sealing = seal;
      next += run.length;
    }
  } catch (err) {
    failure = err;
  }
  if (unsynced.length > 0 && (st.config.fsync !== "never" || sealing)) {
    const active = st.active as ChunkWriter;
    try {
      await active.sync();
    } catch (err) {
      failure ??= err;
      sealing = false;
      const first = unsynced[0] as Placed;
      await active
        .rollback(first.sizeBefore, first.recordsBefore, first.firstSeq - 1)
        .catch(() => undefined);
      st.nextSeq = first.firstSeq;
      for (const p of unsynced.splice(0)) reject(core, st, p.entry, err);
    }
  }
  const filled = sealing ? (st.active as ChunkWriter) : undefined;
  // Sealed and synced: sendable before the appends resolve, as if closed already.
  if (filled) registerSealed(core, st, filled);
  for (const { entry, firstSeq } of [...covered, ...unsynced]) {
    entry.resolve({ firstSeq, lastSeq: firstSeq + entry.records.length - 1 });
    core.appended.records += entry.records.length;
    core.appended.bytes += entry.bytes;
    core.appendRate.add(entry.records.length);
  }
  // Producers go on while the filled chunk's descriptor closes.
  await filled
    ?.close()
    .catch((err: unknown) => core.logFailure(err, "chunk.close_failed", { stream: st.name }));
  if (failure !== undefined) {
    for (const entry of batch.slice(next)) reject(core, st, entry, failure);
    core.logFailure(failure, "append.failed", { stream: st.name });
  }
  return filled;
}

/** The appends from `start` on that share its schema; an append is never split. */
function sameSchemaRun(batch: PendingAppend[], start: number): PendingAppend[] {
  const schema = (batch[start] as PendingAppend).schema;
  let end = start + 1;
  while (end < batch.length && (batch[end] as PendingAppend).schema.equals(schema)) end++;
  return batch.slice(start, end);
}

/** One write for a run of appends (and the seal trailer after them, with `seal`). */
async function writeRun(
  st: StreamState,
  active: ChunkWriter,
  entries: PendingAppend[],
  seal: boolean,
): Promise<Placed[]> {
  const records: Uint8Array[] = [];
  for (const e of entries) for (const r of e.records) records.push(r);
  const firstSeq = st.nextSeq;
  const sizeBefore = active.bytes;
  const recordsBefore = active.records;
  await active.write(records, firstSeq, seal);
  st.nextSeq += records.length;
  let seq = firstSeq;
  return entries.map((entry) => {
    const placed = { entry, firstSeq: seq, sizeBefore, recordsBefore };
    seq += entry.records.length;
    return placed;
  });
}

function reject(core: BufferCore, st: StreamState, entry: PendingAppend, err: unknown): void {
  core.budget.addBytes(-entry.bytes);
  entry.reject(diskFullAsBufferFull(err, st.name, st.dir));
}
