import { Backoff } from "../common/index.js";
import type { BufferCore } from "./buffer-core.js";
import type { ChunkRef } from "./chunk-ref.js";
import type { StreamState } from "./stream-state.js";

/**
 * Removes a chunk the buffer is done with (delivered, dropped, or quarantined with
 * nothing left): first a durable checkpoint listing it as removed, only then the unlink,
 * so a crash in between leaves a file the next open deletes, never a chunk sent twice or
 * a hole in the checkpoint. The caller has taken `ref` out of the stream's sealed list.
 */
export async function retireChunk(core: BufferCore, st: StreamState, ref: ChunkRef): Promise<void> {
  st.removed.add(ref.id);
  st.quarantined.delete(ref.id);
  st.seqFloor = Math.max(st.seqFloor, ref.lastSeq + 1);
  const retry = new Backoff({ initialMs: 100, maxMs: 5000, jitter: "full" });
  for (;;) {
    try {
      await core.checkpoints.request();
      break;
    } catch (err) {
      core.logFailure(err, "checkpoint.write_failed", { ref });
      // Still listed as removed in memory; the checkpoint at close or the next one wins.
      if (core.closed) return;
      await core.pause(retry.next());
    }
  }
  try {
    await core.fs.unlink(ref.path);
    await core.fs.fsyncDir(st.dir);
    st.removed.delete(ref.id);
  } catch (err) {
    // Listed in the checkpoint, so the next open deletes it.
    if ((err as NodeJS.ErrnoException).code !== "ENOENT")
      core.logFailure(err, "chunk.unlink_failed", { ref });
  }
  core.budget.removeChunk(ref.bytes);
}
