import {
  type SpawnSyncOptionsWithStringEncoding,
  type SpawnSyncReturns,
  spawnSync,
} from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { repoRoot } from "./run-outpost.js";

let compiled = false;

/**
 * `npm run bench -- ARGS` without its compile on every call: dist/ is brought up to the
 * sources once per test process (incrementally, as `npm run build` does), then the built
 * bench runner runs. Benches measure built code, as an operator runs them.
 */
export function runBench(
  args: string[],
  options: Partial<SpawnSyncOptionsWithStringEncoding> = {},
): SpawnSyncReturns<string> {
  if (!compiled) {
    const tsc = createRequire(join(repoRoot, "package.json")).resolve("typescript/bin/tsc");
    const build = spawnSync(
      process.execPath,
      [tsc, "-p", "tsconfig.json", "--incremental", "--tsBuildInfoFile", "dist/.tsbuildinfo"],
      { cwd: repoRoot, encoding: "utf8" },
    );
    if (build.status !== 0) throw new Error(`tsc failed:\n${build.stdout}${build.stderr}`);
    compiled = true;
  }
  return spawnSync(process.execPath, [join(repoRoot, "dist", "bench", "run.js"), ...args], {
    cwd: repoRoot,
    encoding: "utf8",
    ...options,
  });
}
