import type { ExitStatus } from "../../native/index.js";
import type { RestartPolicy } from "../software/descriptor.js";

/**
 * Whether a process that ended with `status` is started again. An adopted process's
 * status is unknown (`code` and `signal` null: it was not our child) and counts as a
 * failure. A stop we asked for never restarts; the caller does not ask then.
 */
export function shouldRestart(policy: RestartPolicy, status: ExitStatus): boolean {
  if (policy === "always") return true;
  if (policy === "never") return false;
  return status.code !== 0;
}
