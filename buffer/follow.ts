import { type FSWatcher, watch } from "node:fs";
import { type FileHandle, open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { scanFrames } from "../common/record-frame.js";
import { chunkFileName, parseChunkFileName } from "./chunk-file.js";
import { decodeHeader, MAX_HEADER_BYTES } from "./chunk-header.js";
import { BUFFER_DEFAULTS } from "./config.js";

/** A record appended to a followed stream. */
export interface FollowedRecord {
  chunkId: number;
  seq: number;
  /** The chunk header's schema fingerprint; undefined when the header is damaged. */
  schema: Buffer | undefined;
  payload: Buffer;
}

export interface FollowOptions {
  /** Ends the following (the generator returns). */
  signal: AbortSignal;
  /** Longest wait between two looks when no change notification comes. */
  pollMs?: number;
  maxRecordBytes?: number;
}

/** A chunk file being read as it grows; its descriptor keeps it readable once deleted. */
interface Cursor {
  id: number;
  handle: FileHandle;
  /** Where the next unread frame starts (0 until the header is read). */
  offset: number;
  headerRead: boolean;
  schema: Buffer | undefined;
}

/**
 * Follows one stream of a buffer directory like `tail -f`: yields, in append order and
 * in batches, every record appended after the call, as soon as its frame is complete on
 * disk (durable or not yet: this is a view, not a delivery). Read-only and lock-free, so
 * it runs beside the writer in another process without disturbing it; it also follows a
 * stream that does not exist yet, and a writer that restarts (recovery seals the open
 * chunk, appends go to a new one). Only the open chunk and the ones opened later are
 * read: every older chunk is sealed. A chunk is kept open until its seal is read, so one
 * forwarded and deleted meanwhile is still read to its end; change notifications
 * (inotify) wake it, a poll every `pollMs` is the fallback.
 */
export async function* followStream(
  dir: string,
  stream: string,
  options: FollowOptions,
): AsyncGenerator<FollowedRecord[]> {
  const follower = new StreamFollower(
    join(dir, "streams", stream),
    options.maxRecordBytes ?? BUFFER_DEFAULTS.maxRecordBytes,
  );
  const { signal } = options;
  try {
    await follower.skipExisting();
    while (!signal.aborted) {
      const records = await follower.read();
      if (records.length > 0) yield records;
      await follower.wait(options.pollMs ?? 250, signal);
    }
  } finally {
    await follower.close();
  }
}

class StreamFollower {
  private readonly cursors: Cursor[] = [];
  /** The newest chunk id seen: chunks with a higher id are new. */
  private lastId = -1;
  private watcher: FSWatcher | undefined;
  private changed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly streamDir: string,
    private readonly maxRecordBytes: number,
  ) {}

  /** Positions at the end of what the stream holds now. */
  async skipExisting(): Promise<void> {
    const ids = await this.chunkIds();
    this.lastId = ids.at(-1) ?? -1;
    // Appends go to the newest chunk; a commit that filled the one before sealed it.
    for (const id of ids.slice(-2)) {
      const cursor = await this.openCursor(id);
      if (cursor && !(await this.advance(cursor, []))) this.cursors.push(cursor);
      else await cursor?.handle.close();
    }
  }

  /** Everything appended since the last read. */
  async read(): Promise<FollowedRecord[]> {
    this.watch();
    for (const id of await this.chunkIds()) {
      if (id <= this.lastId) continue;
      this.lastId = id;
      const cursor = await this.openCursor(id);
      if (cursor) this.cursors.push(cursor);
    }
    const records: FollowedRecord[] = [];
    for (const cursor of [...this.cursors]) {
      if (await this.advance(cursor, records)) {
        this.cursors.splice(this.cursors.indexOf(cursor), 1);
        await cursor.handle.close();
      }
    }
    return records;
  }

  /** Until a change notification, `pollMs`, or the abort. */
  wait(pollMs: number, signal: AbortSignal): Promise<void> {
    if (this.changed) {
      this.changed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.wake = undefined;
        this.changed = false;
        resolve();
      };
      const timer = setTimeout(done, pollMs);
      signal.addEventListener("abort", done, { once: true });
      this.wake = done;
    });
  }

  async close(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    await Promise.all(this.cursors.splice(0).map((c) => c.handle.close()));
  }

  private watch(): void {
    if (this.watcher) return;
    try {
      this.watcher = watch(this.streamDir, () => {
        this.changed = true;
        this.wake?.();
      });
      this.watcher.on("error", () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      // The stream has no directory yet: polling finds it.
    }
  }

  private async chunkIds(): Promise<number[]> {
    const names = await readdir(this.streamDir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return [] as string[];
      throw err;
    });
    return names
      .map(parseChunkFileName)
      .filter((id): id is number => id !== undefined)
      .sort((a, b) => a - b);
  }

  private async openCursor(id: number): Promise<Cursor | undefined> {
    try {
      const handle = await open(join(this.streamDir, chunkFileName(id)), "r");
      return { id, handle, offset: 0, headerRead: false, schema: undefined };
    } catch (err) {
      // Removed since the listing (an empty chunk, or delivered): nothing to follow.
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  /**
   * Reads the cursor's complete new frames into `out`. True once the chunk is finished:
   * sealed, or deleted with nothing left to read.
   */
  private async advance(cursor: Cursor, out: FollowedRecord[]): Promise<boolean> {
    const { size, nlink } = await cursor.handle.stat();
    if (size <= cursor.offset) return nlink === 0;
    const buf = Buffer.alloc(size - cursor.offset);
    const { bytesRead } = await cursor.handle.read(buf, 0, buf.length, cursor.offset);
    const data = buf.subarray(0, bytesRead);
    let start = 0;
    if (!cursor.headerRead) {
      const header = decodeHeader(data);
      // Not complete yet, unless it is damaged: then the frames are read without it.
      if (!header && data.length < MAX_HEADER_BYTES) return false;
      cursor.headerRead = true;
      cursor.schema = header?.schema;
      start = header?.size ?? 0;
    }
    const scan = scanFrames(data, start, this.maxRecordBytes);
    for (const f of scan.records) {
      out.push({
        chunkId: cursor.id,
        seq: f.seq,
        schema: cursor.schema,
        payload: Buffer.from(data.subarray(f.payloadStart, f.payloadEnd)),
      });
    }
    cursor.offset += scan.validEnd;
    return scan.seal !== undefined;
  }
}
