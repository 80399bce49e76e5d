import { spawn } from "../../native/index.js";
import { AgentError } from "../errors.js";
import type { Partition } from "../partitions/partitions.js";
import type { RenderedFile } from "./render.js";

/** An instance file could not be written; `path` names it. */
export class InstanceFileError extends AgentError {
  override readonly code = "E_AGENT_FILE";
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`cannot write ${path}: ${reason}`);
    this.name = "InstanceFileError";
  }
}

// Runs as the partition user: mkdir, write a sibling, set its mode, rename over.
const WRITE =
  'set -e; mkdir -p -- "$(dirname -- "$1")"; cat > "$1.outpost-tmp"; chmod "$2" "$1.outpost-tmp"; mv -f -- "$1.outpost-tmp" "$1"';

async function writeOne(partition: Partition, file: RenderedFile): Promise<void> {
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn({
      command: "/bin/sh",
      args: ["-c", WRITE, "sh", file.path, file.mode.toString(8)],
      env: { PATH: "/usr/bin:/bin" },
      cwd: partition.path,
      ...(partition.isolated ? { user: partition.user } : {}),
      umask: 0o027,
      stdio: ["pipe", "ignore", "pipe"],
    });
  } catch (err) {
    throw new InstanceFileError(file.path, (err as Error).message);
  }
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const closed = new Promise<void>((r) =>
    child.stderr ? child.stderr.once("close", () => r()) : r(),
  );
  child.stdin?.end(file.content);
  const status = await child.exited;
  await closed;
  if (status.code !== 0)
    throw new InstanceFileError(file.path, stderr.trim() || `exit status ${status.code}`);
}

/**
 * Writes an instance's rendered files as the partition's own user: the partition owns
 * its directory, so root never follows a path the partition controls (a symlink there
 * cannot make the agent write outside it). Each file is replaced by rename.
 */
export async function writeInstanceFiles(
  partition: Partition,
  files: readonly RenderedFile[],
): Promise<void> {
  for (const file of files) await writeOne(partition, file);
}
