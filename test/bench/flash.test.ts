import { strict as assert } from "node:assert";
import { runBench } from "../helpers/bench-run.js";
import { repoRoot } from "../helpers/run-outpost.js";

describe("bench flash", function () {
  this.timeout(120_000);

  it("flashes one image with outpost and bmaptool and ends with both throughputs and their ratio", () => {
    const r = runBench(["flash", "--data-mib", "4", "--rounds", "1"], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "") as {
      name: string;
      ours: number;
      baseline: number;
      ratio: number;
      extra: { mappedMB: number };
    };
    assert.equal(result.name, "flash");
    assert.ok(result.ours > 0 && result.baseline > 0);
    assert.equal(result.ratio, Number((result.ours / result.baseline).toFixed(4)));
    assert.ok(result.extra.mappedMB >= 4, "the random payload is all mapped");
    assert.match(r.stdout, /^flash: baseline .* MB\/s/m);
  });
});
