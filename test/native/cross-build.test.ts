import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../helpers/run-outpost.js";

describe("aarch64 cross-build (cmake-js + boards/toolchains)", function () {
  this.timeout(240_000);
  const out = join(repoRoot, "build-arm64");
  before(() => rmSync(out, { recursive: true, force: true }));

  it("produces an aarch64 ELF shared object without downloading Node headers", () => {
    const env = { ...process.env };
    // Without a nodedir, cmake-js would fetch Node's headers; Node-API mode must not.
    delete env.npm_config_nodedir;
    const build = spawnSync("npm", ["run", "build:native:arm64"], {
      cwd: repoRoot,
      env,
      encoding: "utf8",
    });
    assert.equal(build.status, 0, `${build.stdout}\n${build.stderr}`);
    assert.doesNotMatch(build.stdout + build.stderr, /Downloading|https?:\/\//);
    const file = spawnSync("file", ["-b", join(out, "Release", "outpost.node")], {
      encoding: "utf8",
    });
    assert.match(file.stdout, /^ELF 64-bit LSB shared object, ARM aarch64/);
  });
});
