import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { release } from "node:os";
import { join } from "node:path";
import { NativeAddonMissingError, uname } from "../../native/index.js";
import { repoRoot } from "../helpers/run-outpost.js";

describe("native addon loading", () => {
  it("loads the compiled addon from TypeScript and makes a real syscall", () => {
    const u = uname();
    assert.equal(u.sysname, "Linux");
    assert.equal(u.release, release());
  });

  it("fails with a clear, typed error naming the path and the remedy when the build is missing", () => {
    const missing = join(repoRoot, "build", "Release", "no-such-addon.node");
    const script = `
      import { uname } from ${JSON.stringify(join(repoRoot, "native", "index.ts"))};
      try { uname(); } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, path: e.path, message: e.message })); }
    `;
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        env: { ...process.env, OUTPOST_NATIVE_ADDON: missing },
        encoding: "utf8",
      },
    );
    const err = JSON.parse(r.stdout) as {
      name: string;
      code: string;
      path: string;
      message: string;
    };
    assert.equal(err.name, NativeAddonMissingError.name);
    assert.equal(err.code, "E_NATIVE_MISSING");
    assert.equal(err.path, missing);
    assert.match(err.message, /npm run build:native/);
  });
});
