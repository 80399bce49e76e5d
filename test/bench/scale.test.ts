import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { runBench } from "../helpers/bench-run.js";
import { repoRoot } from "../helpers/run-outpost.js";

describe("bench scale", function () {
  this.timeout(240_000);

  it("drives one SQLite, one PostgreSQL and two PostgreSQL masters, then holds idle links, ending with the JSON result", () => {
    const r = runBench(
      [
        "scale",
        ...["--nodes", "4", "--chunks", "2", "--records", "5", "--tags", "2"],
        ...["--held", "60", "--heartbeat", "2"],
      ],
      { cwd: repoRoot, encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^scale: postgres-2: 40 readings in /m);
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "") as Record<
      string,
      unknown
    > & {
      extra: Record<string, number> & {
        held_master_rss_mib: number;
        held_master_cpu_cores: number;
        held_syncs_ok: number;
      };
    };
    assert.equal(result.name, "scale");
    assert.equal(
      result.ratio,
      Number(((result.ours as number) / (result.baseline as number)).toFixed(4)),
    );
    assert.equal(result.extra.postgres_2_records_per_s, result.ours);
    assert.equal(result.extra.sqlite_records_per_s, result.baseline);
    for (const store of ["sqlite", "postgres_1", "postgres_2"])
      for (const key of ["records_per_s", "p99_ack_ms", "chunks_per_commit"])
        assert.ok((result.extra[`${store}_${key}`] ?? 0) > 0, `${store}_${key}`);
    assert.equal(result.extra.held_links, 60);
    assert.ok(result.extra.held_master_rss_mib > 10, "the master's RSS measured");
    assert.ok(result.extra.held_master_cpu_cores > 0, "the master's CPU measured");
    // A period and two seconds with every link held, syncing every period: at least one
    // child's round (most of the links once) falls in it.
    assert.ok(result.extra.held_syncs_ok >= 40, `${result.extra.held_syncs_ok} syncs`);
    assert.equal(result.extra.held_syncs_failed, 0);
  });

  it("refuses a malformed setting with exit 2", () => {
    const r = spawnSync(
      process.execPath,
      [join(repoRoot, "dist", "bench", "scale.js"), "--heartbeat", "0"],
      { cwd: repoRoot, encoding: "utf8" },
    );
    assert.equal(r.status, 2);
    assert.equal(r.stderr, "bench scale: --heartbeat must be a whole number from 1 to 3600\n");
  });
});
