import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBuildStep } from "../../../agent/software/build-step.js";

describe("build step", () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "outpost-build-step-"));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it("runs with the node's open files for a build, soft and hard", async () => {
    const log = join(tmp, "build.log");
    writeFileSync(log, "");
    const status = await runBuildStep({
      argv: ["/bin/sh", "-c", "echo files=$(ulimit -Sn)/$(ulimit -Hn)"],
      cwd: tmp,
      env: { PATH: "/usr/bin:/bin" },
      logFile: log,
      timeoutMs: 10_000,
      openFiles: 333,
    });
    assert.equal(status.code, 0);
    assert.match(readFileSync(log, "utf8"), /^files=333\/333$/m);
  });
});
