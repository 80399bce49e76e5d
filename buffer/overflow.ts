import type { BufferCore } from "./buffer-core.js";
import { retireChunk } from "./chunk-retire.js";
import { BufferFullError } from "./errors.js";
import { sealActive } from "./sealer.js";
import type { StreamState } from "./stream-state.js";

/**
 * What an append does when the buffer's limits (`maxBytes`, `maxChunks`) leave no room
 * for it, per the stream's `overflow` policy: `reject` fails at once, `block` waits for
 * room up to `blockTimeoutMs`, `drop_oldest` drops the stream's oldest queued chunks
 * (each drop counted and recorded as a loss event) until the append fits. Resolves when
 * the append may go ahead; rejects with `BufferFullError` otherwise.
 */
export async function makeRoom(core: BufferCore, st: StreamState, bytes: number): Promise<void> {
  const { budget, config } = core;
  if (budget.fits(bytes)) return;
  const full = () =>
    new BufferFullError(
      st.name,
      "limit",
      `${budget.bytes} of ${config.maxBytes} bytes, ${budget.chunks} of ${config.maxChunks} chunks`,
    );
  switch (st.config.overflow) {
    case "reject":
      throw full();
    case "drop_oldest":
      while (!budget.fits(bytes)) {
        if (!(await dropOldest(core, st))) throw full();
      }
      return;
    case "block": {
      const deadline = Date.now() + st.config.blockTimeoutMs;
      while (!budget.fits(bytes)) {
        const left = deadline - Date.now();
        if (left <= 0 || core.closed) throw full();
        await budget.waitForRelease(left);
      }
      return;
    }
  }
}

/**
 * Drops the stream's oldest chunk that is neither being sent nor awaiting quarantine
 * (sealing the open chunk first if that is all there is). False when nothing can go.
 */
async function dropOldest(core: BufferCore, st: StreamState): Promise<boolean> {
  const victimOf = () => st.sealed.find((c) => c.state === "queued" && !c.suspect);
  let victim = victimOf();
  if (!victim && st.active && st.active.records > 0) {
    await st.serial(() => sealActive(core, st));
    victim = victimOf();
  }
  if (!victim) return false;
  st.forget(victim);
  core.totals.droppedChunks++;
  core.totals.droppedRecords += victim.records;
  core.losses.add({
    stream: st.name,
    reason: "overflow",
    chunkId: victim.id,
    fromSeq: victim.firstSeq,
    toSeq: victim.lastSeq,
    records: victim.records,
  });
  core.logger.warn(
    {
      stream: st.name,
      chunkId: victim.id,
      records: victim.records,
      fromSeq: victim.firstSeq,
      toSeq: victim.lastSeq,
    },
    "chunk.dropped",
  );
  await retireChunk(core, st, victim);
  return true;
}
