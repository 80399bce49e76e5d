import { join } from "node:path";
import { crc32c } from "@node-rs/crc32";
import { readU64, writeU64 } from "../common/u64.js";
import type { FileLayer, WritableFile } from "./file-layer.js";
import type { LossEvent } from "./loss.js";

/**
 * The delivery checkpoint: what has left the buffer for good (acknowledged or dropped
 * chunks whose files may still exist), the id and sequence floors that must never go
 * backwards, loss events not yet reported, and lifetime counters.
 *
 * Crash-atomic with two checksummed slots, `checkpoint.0` and `checkpoint.1`, written
 * alternately in place and fdatasynced; the valid slot with the highest generation wins.
 * A torn write damages only the slot being written, the other still holds the previous
 * checkpoint. Slots are preallocated, so a checkpoint (and with it the deletion of
 * delivered chunks) still works on a full disk.
 *
 * | offset | size | field                         |
 * | ------ | ---- | ----------------------------- |
 * | 0      | 4    | magic `OPCP`                  |
 * | 4      | 4    | JSON length n                 |
 * | 8      | 8    | generation                    |
 * | 16     | n    | the checkpoint as JSON, UTF-8 |
 * | 16+n   | 4    | CRC32C of bytes 0 … 16+n      |
 */
export interface StreamCheckpoint {
  /** No record of this stream will ever get a sequence number below this. */
  nextSequence: number;
  /** Chunks delivered or dropped whose files may still be on disk. */
  removed: number[];
  /** Corrupt chunks whose loss is already recorded (so a re-run does not count it twice). */
  quarantined: number[];
}

export interface Totals {
  deliveredChunks: number;
  deliveredRecords: number;
  droppedChunks: number;
  droppedRecords: number;
  corruptChunks: number;
  lostRecords: number;
}

export interface CheckpointData {
  version: 1;
  /** No chunk will ever get an id below this. */
  nextChunkId: number;
  nextLossId: number;
  streams: Record<string, StreamCheckpoint>;
  losses: LossEvent[];
  totals: Totals;
}

const MAGIC = Buffer.from("OPCP", "latin1");
export const SLOT_FILES = ["checkpoint.0", "checkpoint.1"] as const;
export const SLOT_BYTES = 64 * 1024;

export function emptyCheckpoint(): CheckpointData {
  return {
    version: 1,
    nextChunkId: 1,
    nextLossId: 1,
    streams: {},
    losses: [],
    totals: {
      deliveredChunks: 0,
      deliveredRecords: 0,
      droppedChunks: 0,
      droppedRecords: 0,
      corruptChunks: 0,
      lostRecords: 0,
    },
  };
}

export function encodeSlot(data: CheckpointData, generation: number): Buffer {
  const json = Buffer.from(JSON.stringify(data), "utf8");
  const buf = Buffer.alloc(20 + json.length);
  MAGIC.copy(buf, 0);
  buf.writeUInt32LE(json.length, 4);
  writeU64(buf, generation, 8);
  json.copy(buf, 16);
  buf.writeUInt32LE(crc32c(buf.subarray(0, 16 + json.length)), 16 + json.length);
  return buf;
}

export function decodeSlot(buf: Buffer): { generation: number; data: CheckpointData } | undefined {
  if (buf.length < 20 || !buf.subarray(0, 4).equals(MAGIC)) return undefined;
  const n = buf.readUInt32LE(4);
  if (16 + n + 4 > buf.length) return undefined;
  if (crc32c(buf.subarray(0, 16 + n)) !== buf.readUInt32LE(16 + n)) return undefined;
  try {
    const data = JSON.parse(buf.toString("utf8", 16, 16 + n)) as CheckpointData;
    return data.version === 1 ? { generation: readU64(buf, 8), data } : undefined;
  } catch {
    return undefined;
  }
}

export type CheckpointRead =
  | { state: "missing" }
  | { state: "damaged" }
  | { state: "ok"; data: CheckpointData; generation: number };

/** The newest valid slot; `damaged` when slot files exist but none is valid. */
export async function readCheckpoint(fs: FileLayer, dir: string): Promise<CheckpointRead> {
  let best: { generation: number; data: CheckpointData } | undefined;
  let found = 0;
  for (const name of SLOT_FILES) {
    let buf: Buffer;
    try {
      buf = await fs.readFile(join(dir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw err;
    }
    found++;
    const slot = decodeSlot(buf);
    if (slot && (!best || slot.generation > best.generation)) best = slot;
  }
  if (best) return { state: "ok", ...best };
  if (found === 0) return { state: "missing" };
  // Both slots exist but neither was ever written completely: a first checkpoint torn
  // by a crash looks like this, and so does real damage.
  const allZero = await Promise.all(
    SLOT_FILES.map(async (n) =>
      (await fs.readFile(join(dir, n)).catch(() => Buffer.alloc(0))).every((b) => b === 0),
    ),
  );
  return allZero.every(Boolean) ? { state: "missing" } : { state: "damaged" };
}

/**
 * Writes checkpoints into the two slots alternately. `request()` resolves once a
 * checkpoint taken after the call is durable; requests made while a write runs share
 * the next write.
 */
export class CheckpointStore {
  private files: (WritableFile | undefined)[] = [undefined, undefined];
  private running: Promise<void> | undefined;
  private pending: Promise<void> | undefined;

  constructor(
    private readonly fs: FileLayer,
    private readonly dir: string,
    private generation: number,
    private readonly snapshot: () => CheckpointData,
  ) {}

  /** Creates missing slot files (preallocated with zeros) and makes them durable. */
  async prepare(): Promise<void> {
    const names = await this.fs.readdir(this.dir);
    let created = false;
    for (const [i, name] of SLOT_FILES.entries()) {
      const path = join(this.dir, name);
      if (!names.includes(name)) {
        const file = await this.fs.createExclusive(path);
        await file.append(Buffer.alloc(SLOT_BYTES));
        await file.datasync();
        this.files[i] = file;
        created = true;
      } else {
        this.files[i] = await this.fs.openForAppend(path);
      }
    }
    if (created) await this.fs.fsyncDir(this.dir);
  }

  request(): Promise<void> {
    if (!this.pending) {
      const before = this.running ?? Promise.resolve();
      const next: Promise<void> = before
        .catch(() => undefined)
        .then(() => {
          this.pending = undefined;
          this.running = next;
          return this.writeOnce();
        });
      this.pending = next;
    }
    return this.pending;
  }

  private async writeOnce(): Promise<void> {
    const generation = this.generation + 1;
    const file = this.files[generation % 2];
    if (!file) throw new Error("checkpoint store used before prepare()");
    await file.writeAt(0, encodeSlot(this.snapshot(), generation));
    await file.datasync();
    this.generation = generation;
  }

  async close(): Promise<void> {
    for (const file of this.files) await file?.close().catch(() => undefined);
    this.files = [undefined, undefined];
  }
}
