import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { runBench } from "../helpers/bench-run.js";
import { repoRoot } from "../helpers/run-outpost.js";

describe("bench ingest", function () {
  this.timeout(120_000);

  it("forwards chunks of collector records over CURVE into readings on both stores and inserts the same rows alike, ending with the JSON result", () => {
    const r = runBench(
      ["ingest", ...["--nodes", "2,3", "--chunks", "2", "--records", "5", "--tags", "2"]],
      { cwd: repoRoot, encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^ingest: ours \d+ records\/s committed as readings \(sqlite: 3 nodes over loopback CURVE/m,
    );
    assert.match(r.stdout, /^ingest: baseline \d+ records\/s committed as readings/m);
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "") as Record<
      string,
      unknown
    > & { extra: Record<string, number> };
    assert.equal(result.name, "ingest");
    assert.equal(result.better, "higher");
    assert.ok(typeof result.ours === "number" && result.ours > 0);
    assert.ok(typeof result.baseline === "number" && result.baseline > 0);
    assert.equal(
      result.ratio,
      Number(((result.ours as number) / (result.baseline as number)).toFixed(4)),
    );
    assert.equal(result.extra.nodes, 3);
    assert.equal(result.extra.chunks_per_node, 2);
    assert.equal(result.extra.records_per_chunk, 5);
    assert.equal(result.extra.tags_per_node, 2);
    assert.equal(result.extra.stores, "sqlite,postgres");
    for (const store of ["", "postgres_"])
      for (const n of [2, 3]) {
        const p = `${store}n${n}`;
        for (const key of ["records_per_s", "baseline_records_per_s", "p99_ack_ms", "ratio"]) {
          assert.ok((result.extra[`${p}_${key}`] ?? 0) > 0, `${p}_${key}`);
        }
        assert.ok((result.extra[`${p}_master_peak_rss_mib`] ?? 0) > 10, "master RSS measured");
      }
    assert.match(r.stdout, /^ingest: postgres_n3_ratio \d/m);
  });

  it("refuses a malformed setting with exit 2", () => {
    const r = spawnSync(
      process.execPath,
      [join(repoRoot, "dist", "bench", "ingest.js"), "--nodes", "10,many"],
      { cwd: repoRoot, encoding: "utf8" },
    );
    assert.equal(r.status, 2);
    assert.equal(r.stderr, "bench ingest: --nodes must be a whole number above 0\n");
    const store = spawnSync(
      process.execPath,
      [join(repoRoot, "dist", "bench", "ingest.js"), "--store", "sqlite,mysql"],
      { cwd: repoRoot, encoding: "utf8" },
    );
    assert.equal(store.status, 2);
    assert.equal(
      store.stderr,
      "bench ingest: --store takes sqlite, postgres or both (comma-separated)\n",
    );
  });
});
