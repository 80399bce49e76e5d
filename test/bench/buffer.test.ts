import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { runBench } from "../helpers/bench-run.js";
import { repoRoot } from "../helpers/run-outpost.js";

describe("bench buffer", function () {
  this.timeout(180_000);

  it("measures our append rate against a plain fsync-batched file, then forward rate and RSS, ending with the JSON result", () => {
    const r = runBench(["buffer", "--records", "20000", "--rounds", "1", "--in-flight", "8"], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^buffer: ours \d+ records\/s appended durably \(fsync batch\)$/m);
    assert.match(r.stdout, /^buffer: baseline \d+ records\/s/m);
    assert.match(r.stdout, /^buffer: ratio ours\/baseline [\d.]+ \(higher is better\)$/m);
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "") as Record<
      string,
      unknown
    > & {
      extra: Record<string, unknown>;
    };
    assert.equal(result.name, "buffer");
    assert.equal(result.better, "higher");
    assert.ok((result.ours as number) > 0 && (result.baseline as number) > 0);
    assert.equal(
      result.ratio,
      Number(((result.ours as number) / (result.baseline as number)).toFixed(4)),
    );
    assert.ok((result.extra.forward_records_per_s as number) > 0);
    assert.ok((result.extra.rss_peak_mib as number) > 0);
    assert.equal(result.extra.records, 20000);
    assert.equal(result.extra.record_bytes, 100);
    assert.equal(result.extra.batch_ms, 10);
  });

  it("refuses a malformed setting with exit 2", () => {
    const r = spawnSync(
      process.execPath,
      [join(repoRoot, "dist", "bench", "buffer.js"), "--records", "lots"],
      {
        cwd: repoRoot,
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 2);
    assert.equal(r.stderr, "bench buffer: --records must be a whole number above 0\n");
  });
});
