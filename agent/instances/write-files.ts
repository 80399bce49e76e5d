import { relative } from "node:path";
import { hasCode } from "../../common/errors.js";
import { AgentError, type BeneathError } from "../errors.js";
import { writeFileBeneath } from "../files/write-beneath.js";
import type { Partition } from "../partitions/partitions.js";
import type { RenderedFile } from "./render.js";

/** An instance file could not be written; `path` names it. */
export class InstanceFileError extends AgentError {
  override readonly code = "E_AGENT_FILE";
  constructor(
    readonly path: string,
    reason: string,
    options?: { cause: unknown },
  ) {
    super(`cannot write ${path}: ${reason}`, options);
  }
}

/**
 * Writes an instance's rendered files into its partition, owned by the partition user.
 * The agent writes them itself, fd-relative below the partition directory: a symlink
 * the partition planted anywhere on the way is refused, one at the file itself is
 * replaced, and a FIFO there can neither be opened nor stall the agent (the content
 * goes to a new file of an unpredictable name, renamed over the old). No process runs
 * for it, so nothing outside the partition's cgroup ever has its uid.
 */
export async function writeInstanceFiles(
  partition: Partition,
  files: readonly RenderedFile[],
): Promise<void> {
  const owner = partition.isolated ? { uid: partition.uid, gid: partition.gid } : undefined;
  for (const file of files) {
    try {
      writeFileBeneath(partition.path, relative(partition.path, file.path), file.content, {
        mode: file.mode,
        dirMode: 0o750,
        ...(owner ? { owner } : {}),
      });
    } catch (err) {
      const reason = hasCode<BeneathError>(err, "E_AGENT_PATH")
        ? err.reason
        : (err as Error).message;
      throw new InstanceFileError(file.path, reason, { cause: err });
    }
  }
}
