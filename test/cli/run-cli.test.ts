import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, runOutpost } from "../helpers/run-outpost.js";

const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };

describe("outpost CLI", () => {
  it("prints help on stdout and exits 0", () => {
    const r = runOutpost(["--help"]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^Usage: outpost /);
    assert.match(r.stdout, /--version/);
    assert.equal(r.stderr, "");
  });

  it("prints the package version and exits 0", () => {
    const r = runOutpost(["--version"]);
    assert.equal(r.status, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it("rejects an unknown option with one line on stderr and exit 2", () => {
    const r = runOutpost(["--no-such-flag"]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "outpost: unknown option '--no-such-flag'\n");
  });

  it("rejects a bad --log-level value naming the allowed ones", () => {
    const r = runOutpost(["--log-level", "loud", "--help"]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.split("\n").length, 2, "exactly one line");
    assert.match(r.stderr, /^outpost: option '--log-level <level>' argument 'loud' is invalid/);
  });
});
