import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type FileLayer, realFileLayer, type WritableFile } from "../../buffer/index.js";
import { CodedError } from "../../common/errors.js";
import { seededRandom } from "../../common/index.js";

/** The power-loss layer cut the power; every later operation fails. */
export class PowerCutError extends CodedError {
  readonly code = "E_POWER_CUT";
  constructor() {
    super("simulated power cut: the file layer is dead");
  }
}

/**
 * Test mode of the file layer: every operation goes to the real file system, and a shadow
 * model remembers what an fsync has made durable — file contents at their last
 * fdatasync, directory entries at their directory's last fsync. `cutPower()` freezes the
 * layer (every later call fails with `PowerCutError`) and rewrites the directory tree to
 * the durable state, as a power cut would leave it under the strictest POSIX reading:
 * unsynced writes vanish, and so do creates, renames and unlinks whose directory was not
 * fsynced. With `keepTornPrefix`, a random prefix of each file's unsynced appended bytes
 * survives, like pages the kernel happened to write back before the cut.
 */
export interface PowerLossOptions {
  /** Seed for the random choices, so a failing run can be replayed. */
  seed: number;
  keepTornPrefix?: boolean;
}

class FileNode {
  durable: Buffer;
  private data: Buffer;
  length: number;
  /** Nothing written or truncated since the last sync: the real file holds `durable`. */
  clean = true;

  constructor(initial: Buffer) {
    this.durable = Buffer.from(initial);
    this.data = Buffer.from(initial);
    this.length = initial.length;
  }

  write(offset: number, bytes: Buffer): void {
    this.clean = false;
    const end = offset + bytes.length;
    if (end > this.data.length) {
      const grown = Buffer.alloc(Math.max(end, this.data.length * 2));
      this.data.copy(grown, 0, 0, this.length);
      this.data = grown;
    }
    if (offset > this.length) this.data.fill(0, this.length, offset);
    bytes.copy(this.data, offset);
    this.length = Math.max(this.length, end);
  }

  truncate(length: number): void {
    this.clean = false;
    if (length > this.length) this.write(this.length, Buffer.alloc(length - this.length));
    this.length = length;
  }

  sync(): void {
    this.durable = Buffer.from(this.data.subarray(0, this.length));
    this.clean = true;
  }

  current(): Buffer {
    return this.data.subarray(0, this.length);
  }
}

type Entry = FileNode | "dir";

interface DirState {
  durable: Map<string, Entry>;
  current: Map<string, Entry>;
}

export class PowerLossFileLayer implements FileLayer {
  private readonly dirs = new Map<string, DirState>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private dead = false;
  private random: () => number;

  private constructor(
    readonly root: string,
    private readonly options: PowerLossOptions,
  ) {
    this.random = seededRandom(options.seed);
  }

  /** Takes the tree under `root` as it is now as fully durable. */
  static async capture(root: string, options: PowerLossOptions): Promise<PowerLossFileLayer> {
    const layer = new PowerLossFileLayer(root, options);
    await layer.captureDir(root);
    return layer;
  }

  get isDead(): boolean {
    return this.dead;
  }

  private async captureDir(path: string): Promise<void> {
    const state: DirState = { durable: new Map(), current: new Map() };
    this.dirs.set(path, state);
    for (const name of await readdir(path)) {
      const full = join(path, name);
      let entry: Entry;
      if ((await stat(full)).isDirectory()) {
        await this.captureDir(full);
        entry = "dir";
      } else {
        entry = new FileNode(await readFile(full));
      }
      state.durable.set(name, entry);
      state.current.set(name, entry);
    }
  }

  /** Stops the world and leaves on disk only what an fsync covered. */
  async cutPower(): Promise<void> {
    this.dead = true;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await this.restore(this.root);
  }

  private async restore(path: string): Promise<void> {
    const state = this.dirs.get(path);
    if (!state) return;
    for (const name of await readdir(path)) {
      if (!state.durable.has(name)) await rm(join(path, name), { recursive: true, force: true });
    }
    for (const [name, entry] of state.durable) {
      const full = join(path, name);
      if (entry === "dir") {
        await mkdir(full, { recursive: true });
        await this.restore(full);
      } else if (!entry.clean || state.current.get(name) !== entry) {
        // Files untouched since their last sync already hold what survives; rewriting
        // only the others keeps a cut cheap however much the buffer holds.
        await writeFile(full, this.survivingContent(entry));
      }
    }
  }

  private survivingContent(node: FileNode): Buffer {
    const current = node.current();
    // Keeping a torn prefix only makes sense for appends; an in-place rewrite is all or nothing here.
    const appendedOnly =
      current.length > node.durable.length &&
      current.subarray(0, node.durable.length).equals(node.durable);
    if (!this.options.keepTornPrefix || !appendedOnly) return node.durable;
    const extra = Math.floor(this.random() * (current.length - node.durable.length + 1));
    return Buffer.from(current.subarray(0, node.durable.length + extra));
  }

  private run<T>(op: () => Promise<T>): Promise<T> {
    if (this.dead) return Promise.reject(new PowerCutError());
    const p = op();
    this.inFlight.add(p);
    const forget = () => this.inFlight.delete(p);
    p.then(forget, forget);
    return p;
  }

  private dir(path: string): DirState {
    const state = this.dirs.get(path);
    if (!state) throw new Error(`power-loss layer: ${path} is outside the captured tree`);
    return state;
  }

  private node(path: string): FileNode {
    const entry = this.dir(dirname(path)).current.get(basename(path));
    if (!(entry instanceof FileNode)) throw new Error(`power-loss layer: no file ${path}`);
    return entry;
  }

  private wrap(file: WritableFile, node: FileNode): WritableFile {
    return {
      path: file.path,
      get size() {
        return file.size;
      },
      append: (data) =>
        this.run(async () => {
          const at = file.size;
          await file.append(data);
          if (!this.dead) node.write(at, data);
        }),
      writeAt: (offset, data) =>
        this.run(async () => {
          await file.writeAt(offset, data);
          if (!this.dead) node.write(offset, data);
        }),
      truncate: (length) =>
        this.run(async () => {
          await file.truncate(length);
          if (!this.dead) node.truncate(length);
        }),
      datasync: () =>
        this.run(async () => {
          node.sync();
        }),
      close: () => file.close(),
    };
  }

  createExclusive(path: string): Promise<WritableFile> {
    return this.run(async () => {
      const file = await realFileLayer.createExclusive(path);
      const node = new FileNode(Buffer.alloc(0));
      this.dir(dirname(path)).current.set(basename(path), node);
      return this.wrap(file, node);
    });
  }

  openForAppend(path: string): Promise<WritableFile> {
    return this.run(async () =>
      this.wrap(await realFileLayer.openForAppend(path), this.node(path)),
    );
  }

  readFile(path: string): Promise<Buffer> {
    return this.run(() => realFileLayer.readFile(path));
  }

  readRange(path: string, offset: number, length: number): Promise<Buffer> {
    return this.run(() => realFileLayer.readRange(path, offset, length));
  }

  size(path: string): Promise<number> {
    return this.run(() => realFileLayer.size(path));
  }

  readdir(path: string): Promise<string[]> {
    return this.run(() => realFileLayer.readdir(path));
  }

  mkdir(path: string): Promise<void> {
    return this.run(async () => {
      await realFileLayer.mkdir(path);
      if (this.dirs.has(path)) return;
      const parent = this.dir(dirname(path));
      if (!parent.current.has(basename(path))) {
        parent.current.set(basename(path), "dir");
        this.dirs.set(path, { durable: new Map(), current: new Map() });
      }
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.run(async () => {
      await realFileLayer.rename(from, to);
      const entry = this.node(from);
      this.dir(dirname(from)).current.delete(basename(from));
      this.dir(dirname(to)).current.set(basename(to), entry);
    });
  }

  unlink(path: string): Promise<void> {
    return this.run(async () => {
      await realFileLayer.unlink(path);
      this.dir(dirname(path)).current.delete(basename(path));
    });
  }

  truncate(path: string, length: number): Promise<void> {
    return this.run(async () => {
      await realFileLayer.truncate(path, length);
      this.node(path).truncate(length);
    });
  }

  fsyncDir(path: string): Promise<void> {
    return this.run(async () => {
      const state = this.dir(path);
      state.durable = new Map(state.current);
    });
  }
}
