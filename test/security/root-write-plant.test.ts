import { strict as assert } from "node:assert";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { factsOf, HostileNode } from "./hostile-node.js";

/**
 * Item 1: a build plants symlinks where the agent used to write as root (the descriptor
 * copy and the install mark's temp name, `.outpost-installed.json.tmp-<agent pid>`), and
 * at the names of files the agent writes today. Nothing outside the release's tree may
 * change: no root file overwritten through a link, none created.
 */
describe("security: a build's symlinks never redirect a root write", function () {
  this.timeout(120_000);
  const node = new HostileNode();
  let victim: string;
  let planted: string;

  before(async () => {
    await node.start();
    victim = join(node.tmp, "root-only.conf");
    writeFileSync(victim, "root's own\n", { mode: 0o600 });
    planted = join(node.tmp, "created-by-root");
  });

  after(() => node.close());

  it("installs with the links in its tree; the linked root file and the new-file target stay as they were", async () => {
    const before = factsOf(victim);
    const pid = process.pid;
    const links = [
      [victim, ".outpost-software.yaml"],
      [planted, `.outpost-installed.json.tmp-${pid}`],
      [victim, ".outpost-installed.json"],
      [victim, "bin"],
    ];
    const steps = links
      .map(([target, name]) => `ln -s ${target} {{software}}/${name}`)
      .join(" && ");
    const url = node.release(
      "planter",
      `apiVersion: outpost/v1
name: planter
version: 1.0.0
build:
  steps:
    - run: ["sh", "-c", "${steps}"]
instance:
  processes:
    - { name: idle, command: ["/bin/sleep", "3600"], restart: always }
  promises:
    - { name: alive, command: ["/bin/true"], interval: 1s }
`,
    );
    await node.supplyAndRequest("planter", url);
    await node.ready("planter");
    assert.deepEqual(factsOf(victim), before, "the root-only file is unchanged");
    assert.ok(!existsSync(planted), "no root file was created through a link");
    const software = join(node.agentData, "software");
    const trees = readdirSync(software);
    assert.equal(trees.length, 2, "the bystander's tree and the planter's");
    await node.stillConverging();
  });
});
