import {
  closeSync,
  constants as fs,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { RealtimeError } from "../errors.js";

export const DEFAULT_KNOB_JOURNAL = "/var/lib/outpost/realtime/knobs.json";

/** A machine-wide setting we changed: its file, its value before us, who needs the change. */
export interface KnobEntry {
  path: string;
  original: string;
  owners: string[];
}

/** The journal file is not what we wrote: refuse to guess originals. */
export class KnobJournalCorruptError extends RealtimeError {
  readonly code = "E_RT_JOURNAL";
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(
      `knob journal ${path} is unreadable (${reason}); restore its settings by hand, then delete it`,
    );
  }
}

/** A knob whose original could not be written back; kept in the journal for the next try. */
export interface RestoreFailure {
  path: string;
  original: string;
  error: string;
}

/** One write(2), no O_CREAT (a missing knob is ENOENT): procfs and sysfs take a value per write. */
function writeKnob(path: string, value: string): void {
  const fd = openSync(path, fs.O_WRONLY | fs.O_TRUNC);
  try {
    writeSync(fd, value);
  } finally {
    closeSync(fd);
  }
}

function readKnob(path: string): string {
  return readFileSync(path, "utf8").trim();
}

/**
 * Owns machine-wide knobs (RT throttling, IRQ affinities, governors): a knob's original
 * value is in the journal on disk (written atomically, fsynced) before the knob is
 * changed, and written back when its last owner releases it, or by `recover()` at the
 * next start when the process holding it died.
 */
export class KnobJournal {
  constructor(readonly file = DEFAULT_KNOB_JOURNAL) {}

  entries(): KnobEntry[] {
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new KnobJournalCorruptError(this.file, (err as Error).message);
    }
    const valid =
      Array.isArray(parsed) &&
      parsed.every(
        (e) =>
          typeof e?.path === "string" &&
          typeof e?.original === "string" &&
          Array.isArray(e?.owners) &&
          e.owners.every((o: unknown) => typeof o === "string"),
      );
    if (!valid)
      throw new KnobJournalCorruptError(this.file, "not a list of {path, original, owners}");
    return parsed as KnobEntry[];
  }

  /** Temp file, fsync, rename, fsync the directory: a crash leaves the old or the new journal. */
  private save(entries: readonly KnobEntry[]): void {
    const dir = dirname(this.file);
    mkdirSync(dir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(entries, null, 2)}\n`, { mode: 0o600 });
    const fd = openSync(tmp, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    const dirFd = openSync(dir, "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  /**
   * Sets `path` to `value` for `owner`. The first owner journals the original before the
   * write; later owners join the entry (the value must then agree).
   */
  change(path: string, value: string, owner: string): void {
    const entries = this.entries();
    const entry = entries.find((e) => e.path === path);
    if (entry === undefined) {
      entries.push({ path, original: readKnob(path), owners: [owner] });
      this.save(entries);
    } else if (!entry.owners.includes(owner)) {
      entry.owners.push(owner);
      this.save(entries);
    }
    try {
      writeKnob(path, value);
    } catch (err) {
      // The knob kept its value: forget this owner's claim on it.
      const undone = this.entries()
        .map((e) => (e.path === path ? { ...e, owners: e.owners.filter((o) => o !== owner) } : e))
        .filter((e) => e.path !== path || e.owners.length > 0);
      this.save(undone);
      throw err;
    }
  }

  /** Drops `owner` from every knob; a knob left without owners gets its original back. */
  release(owner: string): RestoreFailure[] {
    const entries = this.entries();
    for (const e of entries) e.owners = e.owners.filter((o) => o !== owner);
    return this.restoreWhere(entries, (e) => e.owners.length === 0);
  }

  /** At start: nobody holds anything yet, so every journaled knob gets its original back. */
  recover(): RestoreFailure[] {
    return this.restoreWhere(this.entries(), () => true);
  }

  private restoreWhere(entries: KnobEntry[], due: (e: KnobEntry) => boolean): RestoreFailure[] {
    const failures: RestoreFailure[] = [];
    const kept: KnobEntry[] = [];
    for (const e of entries) {
      if (!due(e)) {
        kept.push(e);
        continue;
      }
      try {
        writeKnob(e.path, e.original);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // A knob that is gone (IRQ freed, CPU unplugged) has nothing left to restore.
        if (code !== "ENOENT") {
          failures.push({ path: e.path, original: e.original, error: (err as Error).message });
          kept.push({ ...e, owners: [] });
        }
      }
    }
    this.save(kept);
    return failures;
  }
}
