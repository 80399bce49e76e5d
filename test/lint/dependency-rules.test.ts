import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "../helpers/run-outpost.js";

/** Runs dependency-cruiser with the project's config over `cwd`, as `npm run lint` does. */
function depcruise(cwd: string): { status: number | null; out: string } {
  const r = spawnSync(
    join(repoRoot, "node_modules", ".bin", "depcruise"),
    ["--config", join(repoRoot, ".dependency-cruiser.cjs"), "."],
    { cwd, encoding: "utf8" },
  );
  return { status: r.status, out: r.stdout + r.stderr };
}

describe("import rules (.dependency-cruiser.cjs, run by npm run lint)", function () {
  this.timeout(120_000);

  it("fails on circles (type-only and lazy import() included), upward arrows, buffer/ taking protocol/'s code and imports of test/", () => {
    const { status, out } = depcruise(join(repoRoot, "test", "fixtures", "lint", "violations"));
    assert.notEqual(status, 0, out);
    const lines = out.split("\n").map((l) => l.trim());
    for (const expected of [
      "error no-circular: native/index.ts →",
      "error no-circular: collector/browse.ts →",
      "error layer-common: common/clock.ts → native/index.ts",
      "error layer-ota: ota/install.ts → images/index.ts",
      "error no-test-in-production: agent/start.ts → test/helper.ts",
      "error buffer-protocol-types-only: buffer/version.ts → protocol/index.ts",
    ]) {
      assert.ok(lines.includes(expected), `missing "${expected}" in:\n${out}`);
    }
    // buffer/sink.ts's `import type` from protocol/ is allowed: six, not seven.
    assert.match(out, /6 dependency violations \(6 errors/);
  });

  it("passes on the project's own tree", () => {
    const { status, out } = depcruise(repoRoot);
    assert.equal(status, 0, out);
    assert.match(out, /no dependency violations found/);
  });
});
