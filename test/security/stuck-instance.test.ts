import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "../helpers/until.js";
import { HostileNode } from "./hostile-node.js";

/**
 * Scope of item 5: one instance's action that takes long (here a stop that waits out a
 * 15 s SIGTERM grace on a process that ignores it) must not hold the converge loop: the
 * pass goes on after its action budget, the others converge and are reported, and the
 * slow action finishes on its own.
 */
describe("security: an instance stuck in an action never stalls the converge loop", function () {
  this.timeout(120_000);
  const node = new HostileNode({ stopTimeout: 15 });

  before(() => node.start());
  after(() => node.close());

  it("the bystander converges while the stuck instance's stop runs; the destroy then completes", async () => {
    const url = node.release(
      "stubborn",
      `apiVersion: outpost/v1
name: stubborn
version: 1.0.0
instance:
  processes:
    - { name: deaf, command: ["/bin/sh", "-c", "trap '' TERM; while :; do sleep 1; done"], restart: always }
  promises:
    - { name: alive, command: ["/bin/true"], interval: 1s }
`,
    );
    await node.supplyAndRequest("stubborn", url);
    const stubborn = await node.ready("stubborn");
    const partition = stubborn.partition + 1;
    const uid = node.partitionUid(partition);
    const destroyedAt = Date.now();
    await node.client.destroy("stubborn");
    await node.stillConverging(6_000);
    assert.ok(Date.now() - destroyedAt < 12_000, "converged before the stuck stop ended");
    assert.ok(node.processesOf(uid, partition).all.length > 0, "its stop is still under way");
    await eventually("stubborn's processes gone", 30_000, () =>
      node.processesOf(uid, partition).all.length === 0 ? true : undefined,
    );
    assert.ok(Date.now() - destroyedAt >= 14_000, "its stop did wait out the grace period");
    const journal = join(node.agentData, "journal.json");
    await eventually("stubborn's journal entry and files gone", 10_000, () =>
      !readFileSync(journal, "utf8").includes('"stubborn"') &&
      readdirSync(join(node.agentData, "partitions", `p${partition}`)).length === 0
        ? true
        : undefined,
    );
    await node.stillConverging();
  });
});
