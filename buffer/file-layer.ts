import { constants } from "node:fs";
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  stat,
  truncate,
  unlink,
} from "node:fs/promises";

/**
 * Every file operation the buffer performs goes through this interface: plain writes and
 * fdatasync, never mmap, so what is durable is exactly what was synced. The tests'
 * power-loss layer (`test/helpers/power-loss-layer.ts`) implements the same interface.
 */
export interface FileLayer {
  /** Creates a new file (fails if it exists) open for appending. */
  createExclusive(path: string): Promise<WritableFile>;
  /** Opens an existing file for appending at its current end. */
  openForAppend(path: string): Promise<WritableFile>;
  readFile(path: string): Promise<Buffer>;
  /** Up to `length` bytes from `offset` (fewer at the end of the file). */
  readRange(path: string, offset: number, length: number): Promise<Buffer>;
  size(path: string): Promise<number>;
  readdir(path: string): Promise<string[]>;
  /** Creates a directory; succeeds if it already exists. */
  mkdir(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  truncate(path: string, length: number): Promise<void>;
  /** Makes the directory's entries (creates, renames, unlinks) durable. */
  fsyncDir(path: string): Promise<void>;
}

export interface WritableFile {
  readonly path: string;
  /** Bytes in the file as far as this handle knows: the offset the next append writes at. */
  readonly size: number;
  /**
   * Writes all of `data` at `size`. On failure the file may hold part of it past `size`;
   * the caller truncates back to `size`.
   */
  append(data: Buffer): Promise<void>;
  /** Overwrites bytes at `offset` (in place, so it needs no new space below `size`). */
  writeAt(offset: number, data: Buffer): Promise<void>;
  truncate(length: number): Promise<void>;
  datasync(): Promise<void>;
  close(): Promise<void>;
}

class RealWritableFile implements WritableFile {
  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    public size: number,
  ) {}

  async append(data: Buffer): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(
        data,
        done,
        data.length - done,
        this.size + done,
      );
      done += bytesWritten;
    }
    this.size += data.length;
  }

  async writeAt(offset: number, data: Buffer): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(
        data,
        done,
        data.length - done,
        offset + done,
      );
      done += bytesWritten;
    }
    this.size = Math.max(this.size, offset + data.length);
  }

  async truncate(length: number): Promise<void> {
    await this.handle.truncate(length);
    this.size = length;
  }

  datasync(): Promise<void> {
    return this.handle.datasync();
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

export const realFileLayer: FileLayer = {
  async createExclusive(path) {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
    return new RealWritableFile(path, await open(path, flags, 0o640), 0);
  },
  async openForAppend(path) {
    const handle = await open(path, constants.O_WRONLY);
    try {
      return new RealWritableFile(path, handle, (await handle.stat()).size);
    } catch (err) {
      await handle.close();
      throw err;
    }
  },
  readFile: (path) => readFile(path),
  async readRange(path, offset, length) {
    const handle = await open(path, "r");
    try {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  },
  size: async (path) => (await stat(path)).size,
  readdir: (path) => readdir(path),
  async mkdir(path) {
    await mkdir(path, { recursive: true });
  },
  rename: (from, to) => rename(from, to),
  unlink: (path) => unlink(path),
  truncate: (path, length) => truncate(path, length),
  async fsyncDir(path) {
    const handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};
