import { join } from "node:path";
import { packageRoot } from "../../native/index.js";

/**
 * `{{outpost.node}}` and `{{outpost.cli}}`: the agent's own Node.js and `outpost`
 * command, so a release that runs Outpost's tools (the collector) need not be told
 * where a checkout or an image keeps them.
 */
export function outpostRuntime(): { node: string; cli: string } {
  return { node: process.execPath, cli: join(packageRoot(), "dist", "cli", "main.js") };
}
