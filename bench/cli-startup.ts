import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, report } from "./lib/report.js";

/**
 * How long `outpost --version` takes to start, against a bare `node -e 0` in the same
 * run. Promises and field engineers call the CLI on small ARM boxes, where every
 * module loaded at start-up costs; this ratio catches an import that drags in a
 * heavy component for every command.
 */
const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "cli", "main.js");
const rounds = Number(process.env.BENCH_ROUNDS ?? 20);

function timeOnce(args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: "ignore" });
  if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const ours: number[] = [];
const baseline: number[] = [];
// Interleaved so machine noise hits both series alike.
for (let i = 0; i < rounds; i++) {
  ours.push(timeOnce([cli, "--version"]));
  baseline.push(timeOnce(["-e", "0"]));
}

report({
  name: "cli-startup",
  ours: median(ours),
  baseline: median(baseline),
  unit: "ms (median wall time)",
  better: "lower",
  extra: { rounds },
});
