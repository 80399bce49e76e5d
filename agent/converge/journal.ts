import { existsSync, readFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import type { CgroupDirs } from "../../native/index.js";
import type { DesiredInstance, RequestedState } from "../../protocol/index.js";
import { AgentDataDirError } from "../errors.js";
import { writeFileBeneath } from "../files/write-beneath.js";
import type { ProcessIdentity } from "../supervisor/process-identity.js";

/** What the agent did for one instance, as far as the next start needs to know. */
export interface JournalEntry {
  software: string;
  /** Install directory id the instance runs from. */
  softwareId?: string;
  /** Agent partition number (the master's partition + 1). */
  partition: number;
  parameters: Record<string, string>;
  requested: RequestedState;
  /**
   * `starting` is written before the first process is spawned and `started` once every
   * identity is journaled, so a crash in between is finished by the next start (it
   * adopts what it knows, kills the rest of the group, starts what is missing).
   */
  phase: "starting" | "started" | "stopped" | "destroying";
  processes: Record<string, ProcessIdentity>;
  /** The connection parameters of the instances it requested, as it was started with them. */
  requestedConnections?: Record<string, Record<string, string>>;
  /** Connection parameters the instance published through its local API. */
  published?: Record<string, string>;
  /** The whole cores it holds (an RT instance): re-claimed by the next agent start. */
  cores?: number[];
  /** Destroy: the master acknowledged the final report; the partition may be reset. */
  finalReportAcked?: boolean;
}

interface JournalFile {
  version: 1;
  instances: Record<string, JournalEntry>;
  /** The last desired state the master sent: what the node runs while offline. */
  desired?: { software: string[]; instances: DesiredInstance[] };
  /** Per partition number: how many times it was reset for a new instance (see epoch()). */
  epochs?: Record<string, number>;
  /** What this agent named on the box: kept so every start and `uninstall` use the same. */
  naming?: AgentNaming;
}

/** The names an agent gives its accounts and groups, and where its groups were made. */
export interface AgentNaming {
  /** Accounts `<prefix>pN` and `<prefix>b<hex>`, groups `<prefix>partitions`, `<prefix>builds`. */
  prefix: string;
  /** Every directory set the agent's own group had at a start (`uninstall` looks there). */
  cgroupParents: CgroupDirs[];
}

/**
 * The agent's local journal (`<data>/journal.json`), rewritten atomically on every
 * change (see writeFileBeneath): after `kill -9` or a power cut it holds the last state
 * written, never a torn one.
 */
export class Journal {
  private constructor(
    readonly path: string,
    private data: JournalFile,
  ) {}

  static open(path: string): Journal {
    if (!existsSync(path)) return new Journal(path, { version: 1, instances: {} });
    try {
      const data = JSON.parse(readFileSync(path, "utf8")) as JournalFile;
      if (data.version !== 1 || typeof data.instances !== "object")
        throw new Error("not a version 1 journal");
      return new Journal(path, data);
    } catch (err) {
      throw new AgentDataDirError(path, `unreadable journal (${(err as Error).message})`);
    }
  }

  get(name: string): JournalEntry | undefined {
    return this.data.instances[name];
  }

  names(): string[] {
    return Object.keys(this.data.instances);
  }

  set(name: string, entry: JournalEntry): void {
    this.data.instances[name] = entry;
    this.save();
  }

  update(name: string, change: Partial<JournalEntry>): void {
    const entry = this.data.instances[name];
    if (!entry) return;
    this.data.instances[name] = { ...entry, ...change };
    this.save();
  }

  delete(name: string): void {
    delete this.data.instances[name];
    this.save();
  }

  /**
   * Partition `number`'s epoch. Telemetry ids relayed for it carry the epoch, so a new
   * instance's buffer, counting from 0 again, never collides with its predecessor's.
   */
  epoch(number: number): number {
    return this.data.epochs?.[String(number)] ?? 0;
  }

  /** Journaled before the partition is reset: a crash in between only skips an epoch. */
  nextEpoch(number: number): void {
    this.data.epochs = { ...this.data.epochs, [String(number)]: this.epoch(number) + 1 };
    this.save();
  }

  get naming(): AgentNaming | undefined {
    return this.data.naming;
  }

  setNaming(naming: AgentNaming): void {
    if (JSON.stringify(naming) === JSON.stringify(this.data.naming)) return;
    this.data.naming = naming;
    this.save();
  }

  get desired(): JournalFile["desired"] {
    return this.data.desired;
  }

  setDesired(desired: NonNullable<JournalFile["desired"]>): void {
    if (JSON.stringify(desired) === JSON.stringify(this.data.desired)) return;
    this.data.desired = desired;
    this.save();
  }

  private save(): void {
    writeFileBeneath(dirname(this.path), basename(this.path), `${JSON.stringify(this.data)}\n`, {
      mode: 0o600,
    });
  }
}
