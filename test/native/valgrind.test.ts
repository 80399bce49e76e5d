import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers/run-outpost.js";

/** The "definitely lost" loss records of the valgrind process itself (not of forked children). */
function definiteLeaks(log: string, pid: string): string[] {
  const records: string[] = [];
  let current: string[] | undefined;
  for (const line of log.split("\n")) {
    if (!line.startsWith(`==${pid}==`)) continue;
    const body = line.slice(pid.length + 4);
    if (/are definitely lost in loss record/.test(body)) {
      current = [body];
      records.push("");
    } else if (current && body.trim() === "") {
      records[records.length - 1] = current.join("\n");
      current = undefined;
    } else if (current) {
      current.push(body);
    }
  }
  return records;
}

describe("the addon under valgrind memcheck", function () {
  this.timeout(150_000);

  it("leaks nothing definitely in addon frames while spawning, watching and failing", () => {
    const dir = mkdtempSync(join(tmpdir(), "outpost-valgrind-"));
    try {
      const addon = join(repoRoot, "build", "Release", "outpost.node");
      const r = spawnSync(
        "valgrind",
        [
          "--leak-check=full",
          "--show-leak-kinds=definite",
          "--child-silent-after-fork=yes",
          "--num-callers=40",
          `--log-file=${join(dir, "memcheck.log")}`,
          process.execPath,
          join(repoRoot, "test", "native", "fixtures", "addon-exercise.cjs"),
          join(dir, "fifo"),
        ],
        { encoding: "utf8", env: { ...process.env, OUTPOST_NATIVE_ADDON: addon } },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), "exercised");
      const log = spawnSync("cat", [join(dir, "memcheck.log")], { encoding: "utf8" }).stdout;
      const pid = /^==(\d+)== Command: /m.exec(log)?.[1] as string;
      assert.match(log, new RegExp(`==${pid}== LEAK SUMMARY:`), "memcheck ran its leak check");
      const inAddon = definiteLeaks(log, pid).filter((record) => record.includes("outpost.node"));
      assert.deepEqual(inAddon, [], inAddon.join("\n\n"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
