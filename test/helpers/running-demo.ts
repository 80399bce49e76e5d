import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";

/** A running `outpost demo`: its pid and state directory. */
export interface RunningDemo {
  pid: number;
  dir: string;
}

/** Every `outpost demo` process on this box, from /proc (not this test's own children's). */
export function runningDemos(): RunningDemo[] {
  const out: RunningDemo[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
    } catch {
      continue;
    }
    const main = argv.findIndex((a) => /(^|\/)(outpost|main\.[jt]s)$/.test(a));
    if (main < 0 || !argv.slice(main + 1).includes("demo") || argv.includes("--reset")) continue;
    const at = argv.indexOf("--dir");
    out.push({ pid: Number(entry), dir: at >= 0 ? (argv[at + 1] ?? "") : "the default directory" });
  }
  return out;
}

/**
 * Tests that need cores and cpusets to themselves stop here, with one clear line, while
 * an `outpost demo` runs: its agent's groups span every CPU. CI never runs beside one.
 */
export function assertNoRunningDemo(): void {
  const demos = runningDemos();
  assert.deepEqual(
    demos,
    [],
    `an \`outpost demo\` is running (${demos.map((d) => `pid ${d.pid}, state in ${d.dir}`).join("; ")}): it holds cpusets this test needs; stop it (Ctrl-C) and run the test again`,
  );
}
