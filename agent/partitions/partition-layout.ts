import { join } from "node:path";

/** Partitions are numbered 1..MAX_PARTITIONS; partition N listens on 127.0.1.N. */
export const MAX_PARTITIONS = 254;

/** Where and as whom one partition lives; pure data, see partitionLayout. */
export interface PartitionLayout {
  /** 1-based. The master counts partitions from 0: its partition p is our p + 1. */
  number: number;
  user: string;
  /** The partition's own loopback address: ports of different partitions never collide. */
  address: string;
  path: string;
  /**
   * The partition's process logs, outside its directory: root-owned, so the partition
   * cannot point a log at another file through a symlink (logs are opened by root).
   */
  logPath: string;
  /** The partition's cgroup name under the agent's partitions group. */
  cgroupName: string;
}

export interface PartitionNaming {
  /** Directory holding one directory per partition. */
  root: string;
  /** Directory holding one log directory per partition. */
  logRoot: string;
  /** Account names are `<userPrefix><N>` (default `outpost-p`). */
  userPrefix: string;
}

export function partitionLayout(naming: PartitionNaming, number: number): PartitionLayout {
  if (!Number.isInteger(number) || number < 1 || number > MAX_PARTITIONS) {
    throw new RangeError(`partition number ${number} is out of range (1..${MAX_PARTITIONS})`);
  }
  const user = `${naming.userPrefix}${number}`;
  return {
    number,
    user,
    address: `127.0.1.${number}`,
    path: join(naming.root, `p${number}`),
    logPath: join(naming.logRoot, `p${number}`),
    cgroupName: `p${number}`,
  };
}
