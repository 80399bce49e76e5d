import type { ChunkRef } from "./chunk-ref.js";
import type { ChunkWriter } from "./chunk-writer.js";
import type { StreamConfig } from "./config.js";
import { GroupCommit, type PendingAppend } from "./group-commit.js";

/**
 * What the buffer holds for one stream: its sealed chunks in id order, the open chunk,
 * the sequence counters, and a queue that runs the stream's disk operations (writes,
 * seals, drops) one after another.
 */
export class StreamState {
  /** The sequence number the next record gets. */
  nextSeq = 1;
  /** No record of this stream left in the buffer has a sequence number below this. */
  seqFloor = 1;
  sealed: ChunkRef[] = [];
  active: ChunkWriter | undefined;
  sealTimer: NodeJS.Timeout | undefined;
  /** Delivered or dropped chunks whose files may still exist (listed in the checkpoint). */
  readonly removed = new Set<number>();
  /** Corrupt chunks whose loss is already counted. */
  readonly quarantined = new Set<number>();
  readonly commit: GroupCommit;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly dir: string,
    readonly config: StreamConfig,
    commit: (state: StreamState, batch: PendingAppend[]) => Promise<void>,
  ) {
    this.commit = new GroupCommit(config, (batch) => commit(this, batch));
  }

  /** Runs `fn` after every earlier operation on this stream (writes, seals, drops). */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** The oldest sealed chunk waiting to be sent. */
  firstQueued(): ChunkRef | undefined {
    return this.sealed.find((c) => c.state === "queued");
  }

  /** Takes `ref` out of the sealed list; false if it was not there. */
  forget(ref: ChunkRef): boolean {
    const at = this.sealed.indexOf(ref);
    if (at < 0) return false;
    this.sealed.splice(at, 1);
    return true;
  }
}
