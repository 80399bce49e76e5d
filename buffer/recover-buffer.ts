import { join } from "node:path";
import type { BufferCore } from "./buffer-core.js";
import type { CheckpointData } from "./checkpoint.js";
import { STREAM_NAME } from "./config.js";
import { quarantineChunk } from "./corrupt-chunk.js";
import { recoverStream } from "./recovery.js";
import type { StreamState } from "./stream-state.js";

/**
 * Start-up: every stream directory (and every stream the checkpoint names) is recovered
 * (`recovery.ts`), the budget is charged for what is on disk, and the chunk id counter
 * moves past every id seen anywhere — streams, `corrupt/`, the checkpoint — so no id is
 * ever reused. Chunks recovery marks suspect are quarantined afterwards in the
 * background (`quarantineSuspects`): start-up does not wait for them, and the forwarder
 * holds their stream back until they are done.
 */
export async function recoverBuffer(
  core: BufferCore,
  data: CheckpointData,
  openStream: (name: string) => Promise<StreamState>,
): Promise<void> {
  let highest = data.nextChunkId - 1;
  const streamsDir = join(core.config.dir, "streams");
  const names = new Set([...(await core.fs.readdir(streamsDir)), ...Object.keys(data.streams)]);
  for (const name of [...names].sort()) {
    if (!STREAM_NAME.test(name)) continue;
    const saved = data.streams[name];
    const st = await openStream(name);
    const recovered = await recoverStream(
      core.fs,
      st.dir,
      name,
      new Set(saved?.removed ?? []),
      core.config.maxRecordBytes,
    );
    st.seqFloor = saved?.nextSequence ?? 1;
    st.nextSeq = Math.max(st.seqFloor, recovered.nextSequence);
    st.sealed = recovered.chunks;
    for (const id of saved?.quarantined ?? []) {
      if (recovered.chunks.some((c) => c.id === id)) st.quarantined.add(id);
    }
    for (const c of recovered.chunks) {
      core.budget.addChunk();
      core.budget.addBytes(c.bytes);
    }
    highest = Math.max(highest, recovered.highestChunkId);
    const suspect = recovered.chunks.filter((c) => c.suspect).map((c) => c.id);
    if (recovered.repaired > 0 || suspect.length > 0) {
      core.logger.warn({ stream: name, repaired: recovered.repaired, suspect }, "buffer.recovered");
    }
  }
  for (const name of await core.fs.readdir(join(core.config.dir, "corrupt"))) {
    const id = /-([0-9a-f]{16})\.chunk$/.exec(name)?.[1];
    if (id) highest = Math.max(highest, Number.parseInt(id, 16));
  }
  core.nextChunkId = highest + 1;
}

/**
 * Quarantines, in the background, the chunks recovery marked suspect; call once the
 * checkpoint store is ready. The returned promises never reject.
 */
export function quarantineSuspects(core: BufferCore): Promise<void>[] {
  const running: Promise<void>[] = [];
  for (const st of core.streams.values()) {
    for (const ref of st.sealed.filter((c) => c.suspect)) {
      running.push(
        quarantineChunk(core, st, ref)
          .then(() => core.notify())
          .catch((err: unknown) => {
            // The forwarder's read finds the damage again and retries under its backoff.
            ref.suspect = false;
            core.logFailure(err, "chunk.quarantine_failed", { ref });
          }),
      );
    }
  }
  return running;
}
