import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
} from "node:fs";
import { join } from "node:path";
import { hasCode } from "../../common/errors.js";
import type { Cgroup } from "../../native/index.js";
import { PartitionError } from "../errors.js";
import { type AgentLimits, cgroupLimitsOf } from "../limits.js";
import type { TelemetryRelay } from "../local-api/telemetry-relay.js";
import { type AddressGuard, guardAddress } from "./bind-guard.js";
import { openOrCreateChild, removeCgroupTree } from "./cgroup-child.js";
import { type PartitionLayout, type PartitionNaming, partitionLayout } from "./partition-layout.js";
import { ensureSystemUser, removeSystemUser } from "./system-user.js";

/** A partition as it exists on the box. */
export interface Partition extends PartitionLayout {
  /** False in laptop mode: the account is the invoking user's, not `user`. */
  isolated: boolean;
  uid: number;
  gid: number;
  /** Absent in laptop mode (no root): the partition's processes share the agent's group. */
  cgroup?: Cgroup;
  /** Where the partition's local API relays telemetry (PartitionOptions' `telemetry`). */
  telemetry?: TelemetryRelay;
  /** How its processes are kept to `address`; absent in laptop mode. */
  addressGuard?: AddressGuard;
  /** The node's limits of its instance and command promises (PartitionOptions' `limits`). */
  limits?: PartitionLimits;
  /** Why its group's limits could not be set (they stay as they were); absent when they were. */
  limitsError?: string;
}

/** What the agent holds a partition's instance and its command promises to. */
export type PartitionLimits = Pick<AgentLimits, "instance" | "promise">;

export interface PartitionOptions extends PartitionNaming {
  /**
   * With root: each partition gets its own account, a 0750 directory owned by it and a
   * cgroup under `cgroupParent`. Without (laptop mode): the invoking user and no cgroup.
   */
  isolated: boolean;
  cgroupParent?: Cgroup;
  /**
   * The node's telemetry relay to the master, handed to every partition: its local API
   * then takes `POST /v1/telemetry` and `/v1/loss`. Absent: no telemetry endpoints.
   */
  telemetry?: TelemetryRelay;
  /**
   * Limits of each partition's group (memory, tasks, CPU: everything its instance runs
   * together) and what its processes and checks get; absent: none.
   */
  limits?: PartitionLimits;
}

function step<T>(number: number, what: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (hasCode(err, "E_AGENT_PARTITION")) throw err;
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    const reason = e.stderr?.toString().trim() || e.message;
    throw new PartitionError(number, what, reason, { cause: err });
  }
}

/**
 * Makes partition `number` exist: account, directory (owner and mode repaired if they
 * drifted), cgroup. Idempotent: calling it on an existing partition changes nothing and
 * keeps its files and running processes.
 */
export function ensurePartition(options: PartitionOptions, number: number): Partition {
  const layout = partitionLayout(options, number);
  const handed = {
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
  };
  if (!options.isolated) {
    step(number, "directory", () => {
      mkdirSync(layout.path, { recursive: true, mode: 0o750 });
      mkdirSync(layout.logPath, { recursive: true, mode: 0o750 });
    });
    return {
      ...layout,
      isolated: false,
      uid: process.getuid?.() ?? 0,
      gid: process.getgid?.() ?? 0,
      ...handed,
    };
  }
  const user = step(number, "account", () => ensureSystemUser(layout.user, layout.path));
  step(number, "directory", () => {
    mkdirSync(layout.path, { recursive: true, mode: 0o750 });
    const st = lstatSync(layout.path);
    if (!st.isDirectory()) throw new Error(`${layout.path} is not a directory`);
    if (st.uid !== user.uid || st.gid !== user.gid) chownSync(layout.path, user.uid, user.gid);
    if ((st.mode & 0o7777) !== 0o750) chmodSync(layout.path, 0o750);
  });
  step(number, "log directory", () => {
    mkdirSync(layout.logPath, { recursive: true, mode: 0o750 });
    // Readable by the partition (its group), writable by root only.
    chownSync(layout.logPath, 0, user.gid);
    chmodSync(layout.logPath, 0o750);
  });
  const parent = options.cgroupParent;
  const cgroup = parent
    ? step(number, "cgroup", () => openOrCreateChild(parent, layout.cgroupName))
    : undefined;
  // A group that holds more than a lowered limit, or (v1) children with a larger CPU
  // quota, refuses it: the partition keeps working under its old limits, and says so.
  let limitsError: string | undefined;
  if (cgroup && options.limits) {
    try {
      cgroup.setLimits(cgroupLimitsOf(options.limits.instance));
    } catch (err) {
      limitsError = (err as Error).message;
    }
  }
  const addressGuard: AddressGuard = cgroup
    ? guardAddress(cgroup, layout.address)
    : { mode: "none", reason: "the agent runs without cgroups" };
  return {
    ...layout,
    isolated: true,
    uid: user.uid,
    gid: user.gid,
    addressGuard,
    ...(limitsError !== undefined ? { limitsError } : {}),
    ...(cgroup ? { cgroup } : {}),
    ...handed,
  };
}

/** Partitions 1..count, each made to exist (see ensurePartition). */
export function ensurePartitions(options: PartitionOptions, count: number): Partition[] {
  return Array.from({ length: count }, (_, i) => ensurePartition(options, i + 1));
}

/**
 * Returns a partition to a clean state for its next instance: kills every process in its
 * cgroup, removes the cgroup (with the groups below it) and every file in its directory
 * and its log directory. The account stays.
 */
export async function resetPartition(partition: Partition): Promise<void> {
  if (partition.cgroup) await removeCgroupTree(partition.cgroup);
  step(partition.number, "clean directory", () => {
    for (const dir of [partition.path, partition.logPath]) {
      if (!existsSync(dir)) continue;
      for (const entry of readdirSync(dir))
        rmSync(join(dir, entry), { recursive: true, force: true });
    }
  });
}

/** Removes a partition entirely: processes, cgroup, directory, account (uninstall, tests). */
export async function removePartition(
  options: PartitionOptions,
  partition: Partition,
): Promise<void> {
  if (partition.cgroup) await removeCgroupTree(partition.cgroup);
  rmSync(partition.path, { recursive: true, force: true });
  rmSync(partition.logPath, { recursive: true, force: true });
  if (options.isolated)
    step(partition.number, "remove account", () => removeSystemUser(partition.user));
}
