import { strict as assert } from "node:assert";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DEFAULT_LOG_ROTATION } from "../../agent/index.js";
import { HostileNode } from "./hostile-node.js";

/**
 * Issue 24 item: logs rotate by size within seconds of crossing it, whatever a process
 * writes, while the process keeps writing its own descriptor. A release with no
 * resources floods its log with `yes` (~800 MB/s on this box): the log and its
 * rotations stay bounded, the flooder runs on untouched, and the agent keeps
 * converging and reporting the bystander.
 */
describe("security: a process flooding its log cannot fill the disk or stall the node", function () {
  this.timeout(120_000);
  const node = new HostileNode();

  before(() => node.start());
  after(() => node.close());

  it("keeps the flooder's logs under keep × 2 × maxBytes + maxBytes + what ~0.1 s of flood adds", async () => {
    const url = node.release(
      "flood",
      `apiVersion: outpost/v1
name: flood
version: 1.0.0
instance:
  processes:
    - { name: yes, command: ["/usr/bin/yes", "all work and no play"] }
  promises:
    - { name: started, command: ["/bin/true"], interval: 1s }
`,
    );
    await node.supplyAndRequest("flood", url);
    const ready = await node.ready("flood");
    const partition = ready.partition + 1;
    const logs = join(node.agentData, "logs", `p${partition}`);
    const [pid] = node.processesOf(node.partitionUid(partition), partition).all;
    assert.ok(pid, "yes runs");

    const { maxBytes, keep } = DEFAULT_LOG_ROTATION;
    const margin = 256 * 1024 * 1024;
    const bound = keep * 2 * maxBytes + maxBytes + margin;
    const total = () =>
      readdirSync(logs)
        .filter((f) => f.startsWith("yes.log"))
        .reduce(
          (sum, f) => sum + (existsSync(join(logs, f)) ? statSync(join(logs, f)).size : 0),
          0,
        );
    let peak = 0;
    let samples = 0;
    const watchUntil = Date.now() + 8000;
    const converging = node.stillConverging(8000);
    while (Date.now() < watchUntil) {
      try {
        peak = Math.max(peak, total());
        samples++;
      } catch {
        // a file renamed between the listing and its stat
      }
      await sleep(20);
    }
    await converging;
    assert.ok(samples > 100, `${samples} samples`);
    assert.ok(
      peak < bound,
      `peak ${(peak / 2 ** 20).toFixed(0)} MiB under ${(bound / 2 ** 20).toFixed(0)} MiB`,
    );
    const files = readdirSync(logs)
      .filter((f) => f.startsWith("yes.log"))
      .sort();
    assert.deepEqual(
      files,
      ["yes.log", "yes.log.1", "yes.log.2", "yes.log.3"],
      "keep files, no more",
    );
    for (const f of files.slice(1))
      assert.ok(statSync(join(logs, f)).size <= 2 * maxBytes, `${f} at most 2 × maxBytes`);
    assert.deepEqual(
      node.processesOf(node.partitionUid(partition), partition).all,
      [pid],
      "the same yes still runs: never restarted, never stopped",
    );
    assert.equal((await node.show("flood"))?.status, "running");
    await node.stillConverging();
  });
});
