import type { BufferCore } from "./buffer-core.js";
import type { ChunkWriter } from "./chunk-writer.js";
import { diskFullAsBufferFull } from "./errors.js";
import type { PendingAppend } from "./group-commit.js";
import { encodeRecords } from "./record-frame.js";
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
  try {
    await st.serial(() => writeBatch(core, st, batch));
  } finally {
    core.memory.release(batchBytes);
  }
}

/** An append written to a chunk, with where that chunk stood before it. */
interface Placed {
  entry: PendingAppend;
  firstSeq: number;
  sizeBefore: number;
  recordsBefore: number;
}

async function writeBatch(
  core: BufferCore,
  st: StreamState,
  batch: PendingAppend[],
): Promise<void> {
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
      unsynced.push(...(await writeRun(st, active, run)));
      next += run.length;
    }
    const active = st.active;
    if (active && unsynced.length > 0 && active.bytes >= st.config.sealBytes) {
      // Full: the trailer goes in before the commit's one sync, which then covers both.
      await active.appendSeal();
      sealing = true;
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
  if (sealing) {
    const active = st.active as ChunkWriter;
    await active
      .close()
      .catch((err: unknown) => core.logFailure(err, "chunk.close_failed", { stream: st.name }));
    registerSealed(core, st, active);
  }
  for (const { entry, firstSeq } of [...covered, ...unsynced]) {
    entry.resolve({ firstSeq, lastSeq: firstSeq + entry.records.length - 1 });
    core.appended.records += entry.records.length;
    core.appended.bytes += entry.bytes;
    core.appendRate.add(entry.records.length);
  }
  if (failure !== undefined) {
    for (const entry of batch.slice(next)) reject(core, st, entry, failure);
    core.logFailure(failure, "append.failed", { stream: st.name });
  }
}

/** The appends from `start` on that share its schema; an append is never split. */
function sameSchemaRun(batch: PendingAppend[], start: number): PendingAppend[] {
  const schema = (batch[start] as PendingAppend).schema;
  let end = start + 1;
  while (end < batch.length && (batch[end] as PendingAppend).schema.equals(schema)) end++;
  return batch.slice(start, end);
}

/** One write for a run of appends; numbers their records from `st.nextSeq`. */
async function writeRun(
  st: StreamState,
  active: ChunkWriter,
  entries: PendingAppend[],
): Promise<Placed[]> {
  const records: Uint8Array[] = [];
  for (const e of entries) for (const r of e.records) records.push(r);
  const firstSeq = st.nextSeq;
  const sizeBefore = active.bytes;
  const recordsBefore = active.records;
  await active.write(encodeRecords(records, firstSeq), records.length, firstSeq);
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
