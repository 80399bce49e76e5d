import {
  type SpawnSyncOptionsWithStringEncoding,
  type SpawnSyncReturns,
  spawnSync,
} from "node:child_process";
import { join } from "node:path";
import { ensureDist, repoRoot } from "./run-outpost.js";

/**
 * `npm run bench -- ARGS` without its compile on every call: dist/ is brought up to the
 * sources once per test process (incrementally, as `npm run build` does), then the built
 * bench runner runs. Benches measure built code, as an operator runs them.
 */
export function runBench(
  args: string[],
  options: Partial<SpawnSyncOptionsWithStringEncoding> = {},
): SpawnSyncReturns<string> {
  ensureDist();
  return spawnSync(process.execPath, [join(repoRoot, "dist", "bench", "run.js"), ...args], {
    cwd: repoRoot,
    encoding: "utf8",
    ...options,
  });
}
