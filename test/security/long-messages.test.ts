import { strict as assert } from "node:assert";
import { join } from "node:path";
import { openDataDir } from "../../master/index.js";
import { generateKeyPair, NodeLink } from "../../protocol/index.js";
import { eventually } from "../helpers/until.js";
import { HostileNode } from "./hostile-node.js";

/**
 * Item 6: one promise message of 6,000 characters made the master refuse every report
 * of the node (`must NOT have more than 4096 characters`), retried ~19 times a second.
 * Now the agent cuts every text it reports, with a marker; the master checks each
 * instance of a report on its own and drops only an invalid one, saying why; refused
 * reports are retried with backoff.
 */
describe("security: one long promise message cannot silence the node", function () {
  this.timeout(120_000);
  const node = new HostileNode();

  before(() => node.start());
  after(() => node.close());

  it("the message reaches the master cut with a marker; the other instances keep being reported", async () => {
    const long = "x".repeat(6000);
    const url = node.release(
      "chatty",
      `apiVersion: outpost/v1
name: chatty
version: 1.0.0
instance:
  processes:
    - { name: idle, command: ["/bin/sleep", "3600"], restart: always }
  promises:
    - { name: passes-loudly, command: ["/bin/sh", "-c", "printf '%6000s' | tr ' ' x"], interval: 1s }
    - { name: fails-loudly, command: ["/bin/sh", "-c", "printf '%6000s' | tr ' ' y; exit 1"], interval: 1s }
`,
    );
    await node.supplyAndRequest("chatty", url);
    const chatty = await eventually("chatty reported", 20_000, async () => {
      const i = await node.show("chatty");
      return i?.status === "running" && i.promises.some((p) => p.ok) ? i : undefined;
    });
    const passes = chatty.promises.find((p) => p.name === "passes-loudly");
    const fails = chatty.promises.find((p) => p.name === "fails-loudly");
    assert.ok(passes?.ok);
    assert.ok(passes.message && passes.message.length <= 4096);
    assert.match(passes.message, /^x+… \[\d+ more characters\]$/);
    assert.ok(!long.startsWith(passes.message), "the cut is marked");
    assert.equal(fails?.ok, false);
    assert.match(fails?.message ?? "", /more characters\]$/);
    await node.stillConverging();
  });

  it("the master drops an invalid instance of a report, applies the rest and says which and why", async () => {
    const keys = generateKeyPair();
    await node.client.addNode("n2", keys.publicKey);
    const link = new NodeLink({
      endpoint: node.master.endpoint,
      masterPublicKey: node.master.publicKey,
      keyPair: keys,
      timeoutMs: 5000,
    });
    try {
      await link.hello({
        agentVersion: "0.0.0-test",
        arch: "x64",
        board: "generic",
        cpus: 2,
        partitions: 2,
        isolatedCores: [],
      });
      const software = (await node.show("bystander"))?.software ?? "";
      await node.client.supply("n2", software);
      for (const name of ["good", "loud"])
        await node.client.request({ name, software, node: "n2", parameters: {} });
      const now = Date.now();
      const rejected = await link.report({
        instances: [
          { name: "good", status: "running", promises: [], connection: { url: "tcp://x:1" } },
          {
            name: "loud",
            status: "running",
            promises: [{ name: "p", ok: false, message: "z".repeat(6000), checkedAt: now }],
            connection: {},
          },
        ],
        usage: [],
      });
      assert.equal(rejected.length, 1);
      assert.equal(rejected[0]?.name, "loud");
      assert.match(
        rejected[0]?.reason ?? "",
        /promises\.0\.message: must NOT have more than 4096 characters/,
      );
      assert.equal((await node.show("good"))?.status, "running", "the valid instance was applied");
      assert.equal((await node.show("loud"))?.status, "pending", "the invalid one was not");
      const token = openDataDir(join(node.tmp, "master")).adminToken;
      const metrics = await (
        await fetch(`${node.master.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })
      ).text();
      assert.match(metrics, /outpost_master_instance_reports_rejected_total 1/);
    } finally {
      await link.close();
      for (const name of ["good", "loud"]) await node.client.destroy(name);
    }
  });
});
