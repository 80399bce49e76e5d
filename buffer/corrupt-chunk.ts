import { join } from "node:path";
import type { BufferCore } from "./buffer-core.js";
import { parseChunk } from "./chunk-file.js";
import type { ChunkRef } from "./chunk-ref.js";
import { retireChunk } from "./chunk-retire.js";
import { copyToQuarantine, lostRanges, writeSalvage } from "./quarantine.js";
import type { StreamState } from "./stream-state.js";

/**
 * A damaged chunk (found at start-up or when read for sending): the original and a
 * report go to `corrupt/`, the sequence ranges it lost are counted and recorded as loss
 * events (once per chunk id, even if a crash makes this run again), and the chunk is
 * rewritten with its intact records under the same id — or retired if none is left.
 * The expected range comes from the seal trailer, or else from the neighbouring chunks.
 */
export async function quarantineChunk(
  core: BufferCore,
  st: StreamState,
  ref: ChunkRef,
  original?: Buffer,
): Promise<void> {
  const buf = original ?? (await core.fs.readFile(ref.path));
  const parsed = parseChunk(buf, core.config.maxRecordBytes);
  const records = parsed.scan.records;
  const index = st.sealed.indexOf(ref);
  const prev = index > 0 ? st.sealed[index - 1] : undefined;
  const next = index >= 0 ? st.sealed[index + 1] : undefined;
  const seal = parsed.scan.seal;
  const expectedFirst =
    seal?.firstSeq ??
    (prev ? prev.lastSeq + 1 : Math.min(st.seqFloor, records[0]?.seq ?? st.seqFloor));
  const expectedLast =
    seal?.lastSeq ?? (next ? next.firstSeq - 1 : (records.at(-1)?.seq ?? expectedFirst - 1));
  const lost = lostRanges(
    records.map((r) => r.seq),
    expectedFirst,
    expectedLast,
  );
  await copyToQuarantine(core.fs, join(core.config.dir, "corrupt"), buf, {
    chunkId: ref.id,
    stream: st.name,
    detectedAt: new Date().toISOString(),
    size: buf.length,
    headerIntact: parsed.header !== undefined,
    damaged: parsed.scan.damaged,
    intactRecords: records.length,
    lost,
  });
  if (!st.quarantined.has(ref.id)) {
    st.quarantined.add(ref.id);
    core.totals.corruptChunks++;
    for (const range of lost) {
      const count = range.to - range.from + 1;
      core.totals.lostRecords += count;
      core.losses.add({
        stream: st.name,
        reason: "corrupt",
        chunkId: ref.id,
        fromSeq: range.from,
        toSeq: range.to,
        records: count,
      });
    }
    await core.checkpoints.request();
  }
  core.logger.error(
    {
      stream: st.name,
      chunkId: ref.id,
      intact: records.length,
      lost,
      damaged: parsed.scan.damaged,
    },
    "chunk.quarantined",
  );
  if (records.length === 0) {
    st.forget(ref);
    await retireChunk(core, st, ref);
    return;
  }
  const shape = await writeSalvage(core.fs, ref, buf, parsed);
  core.budget.addBytes(shape.bytes - ref.bytes);
  Object.assign(ref, shape, { suspect: false });
}
