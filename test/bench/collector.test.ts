import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { runBench } from "../helpers/bench-run.js";
import { repoRoot } from "../helpers/run-outpost.js";

describe("bench collector", function () {
  this.timeout(180_000);

  it("polls and subscribes to the simulator with and without coalescing and ends with the JSON result", () => {
    const r = runBench(
      [
        "collector",
        ...["--devices", "3", "--tags", "20", "--items", "40", "--seconds", "1"],
        ...["--warmup-ms", "300", "--opcua-interval-ms", "200"],
      ],
      { cwd: repoRoot, encoding: "utf8" },
    );
    assert.equal(r.status, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "") as {
      name: string;
      ours: number;
      baseline: number;
      ratio: number;
      better: string;
      unit: string;
      extra: Record<string, number>;
    };
    assert.equal(result.name, "collector");
    assert.equal(result.better, "lower");
    assert.match(result.unit, /3 devices x 20 tags every 1000 ms/);
    assert.ok(result.ours > 0 && result.baseline > 0);
    assert.equal(result.ratio, Number((result.ours / result.baseline).toFixed(4)));
    const x = result.extra;
    assert.equal(x.modbus_expected_records_per_s, 60);
    // One second of polling at 1 s: every tag of every device once or twice.
    for (const key of ["modbus_records_per_s", "uncoalesced_records_per_s"]) {
      assert.ok((x[key] ?? 0) >= 40 && (x[key] ?? 0) <= 130, `${key} ${x[key]}`);
    }
    assert.equal(x.opcua_items, 40);
    assert.equal(x.opcua_expected_records_per_s, 200);
    assert.ok((x.opcua_records_per_s ?? 0) > 0, `opcua ${x.opcua_records_per_s}`);
    for (const key of ["modbus_peak_rss_mb", "uncoalesced_peak_rss_mb", "opcua_peak_rss_mb"]) {
      assert.ok((x[key] ?? 0) > 10, `${key} ${x[key]}`);
    }
    assert.match(r.stdout, /^collector: ratio ours\/baseline [\d.]+ \(lower is better\)$/m);
  });

  it("refuses a malformed setting with exit 2", () => {
    const r = spawnSync(
      process.execPath,
      [join(repoRoot, "dist", "bench", "collector.js"), "--devices", "many"],
      { cwd: repoRoot, encoding: "utf8" },
    );
    assert.equal(r.status, 2);
    assert.equal(r.stderr, "bench collector: --devices must be a whole number from 1 to 1000\n");
  });
});
