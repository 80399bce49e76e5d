import { join } from "node:path";
import { encodeRecords, encodeSeal } from "../common/record-frame.js";
import { chunkFileName } from "./chunk-file.js";
import { encodeHeader } from "./chunk-header.js";
import type { FileLayer, WritableFile } from "./file-layer.js";

/**
 * The one open chunk of a stream. Appends go to the end with positional writes; a failed
 * write is cut back so the file never holds a partial batch the next write could follow.
 * The directory entry is fsynced before the first record counts as durable.
 */
export class ChunkWriter {
  records = 0;
  firstSeq = 0;
  lastSeq = 0;
  private dirSynced = false;

  private constructor(
    private readonly fs: FileLayer,
    private readonly file: WritableFile,
    readonly dir: string,
    readonly chunkId: number,
    readonly createdAt: number,
    readonly schema: Buffer,
    readonly headerBytes: number,
  ) {}

  static async create(
    fs: FileLayer,
    dir: string,
    stream: string,
    chunkId: number,
    schema: Buffer,
  ): Promise<ChunkWriter> {
    const createdAt = Date.now();
    const path = join(dir, chunkFileName(chunkId));
    const header = encodeHeader({ chunkId, createdAt, stream, schema });
    const file = await fs.createExclusive(path);
    try {
      await file.append(header);
    } catch (err) {
      await file.close().catch(() => undefined);
      await fs.unlink(path).catch(() => undefined);
      throw err;
    }
    return new ChunkWriter(fs, file, dir, chunkId, createdAt, schema, header.length);
  }

  get path(): string {
    return this.file.path;
  }

  get bytes(): number {
    return this.file.size;
  }

  /**
   * Frames and appends `records`, numbered from `firstSeq`, in one write; on failure the
   * file is cut back to where it was. With `seal`, the seal trailer goes into the same
   * write without a sync: the caller syncs, then `close`s — or `rollback`s, which
   * removes the trailer with the records.
   */
  async write(records: readonly Uint8Array[], firstSeq: number, seal = false): Promise<void> {
    const count = records.length;
    const chunkFirst = this.records === 0 ? firstSeq : this.firstSeq;
    const frames = encodeRecords(
      records,
      firstSeq,
      seal ? { count: this.records + count, firstSeq: chunkFirst } : undefined,
    );
    const before = this.file.size;
    try {
      await this.file.append(frames);
    } catch (err) {
      await this.file.truncate(before).catch(() => undefined);
      throw err;
    }
    this.firstSeq = chunkFirst;
    this.records += count;
    this.lastSeq = firstSeq + count - 1;
  }

  /** Cuts the file back to `size` bytes after a failed sync (records past it are not durable). */
  async rollback(size: number, records: number, lastSeq: number): Promise<void> {
    await this.file.truncate(size);
    this.records = records;
    this.lastSeq = lastSeq;
  }

  async sync(): Promise<void> {
    if (this.dirSynced) return this.file.datasync();
    // Independent, so the first sync of a new chunk waits for one round trip, not two.
    await Promise.all([this.file.datasync(), this.fs.fsyncDir(this.dir)]);
    this.dirSynced = true;
  }

  /**
   * Writes the seal trailer and syncs whatever the fsync policy: a sealed chunk may be
   * sent, and a chunk id the sink has seen must never be reused after a power cut. On
   * failure the trailer is cut off again.
   */
  async seal(): Promise<void> {
    const before = this.file.size;
    try {
      await this.file.append(encodeSeal(this.records, this.firstSeq, this.lastSeq));
      await this.sync();
    } catch (err) {
      await this.file.truncate(before).catch(() => undefined);
      throw err;
    }
    await this.file.close();
  }

  /** Closes and removes a chunk that never received a record. */
  async discard(): Promise<void> {
    await this.file.close().catch(() => undefined);
    await this.fs.unlink(this.file.path);
  }

  /** Closes without sealing; recovery seals the file on the next open. */
  async close(): Promise<void> {
    await this.file.close();
  }
}
