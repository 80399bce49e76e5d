import { strict as assert } from "node:assert";
import { lstatSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "../helpers/until.js";
import { factsOf, HostileNode } from "./hostile-node.js";

/**
 * Item 5: the instance file writer ran as the partition user outside any cgroup; a FIFO
 * planted at `etc/app.conf.outpost-tmp` blocked it, the converge loop waited on it, the
 * node stopped reporting, a destroy was not carried out, and ptrace of the blocked
 * writer gave a process outside the partition's cgroup. Now the agent writes instance
 * files itself, fd-relative, to unpredictable temp names, never opening what is there.
 */
describe("security: planted FIFOs and links at instance files neither stall nor redirect the agent", function () {
  this.timeout(120_000);
  const node = new HostileNode();
  let victim: string;

  before(async () => {
    await node.start();
    victim = join(node.tmp, "root-only.conf");
    writeFileSync(victim, "root's own\n", { mode: 0o600 });
  });
  after(() => node.close());

  it("a parameter change rewrites the files over a FIFO and a link; the bystander converges meanwhile; destroy completes", async () => {
    const before = factsOf(victim);
    const plant = [
      "cd {{partition.path}}",
      "[ -e planted ] || { rm -f etc/app.conf etc/link.conf; mkfifo etc/app.conf etc/app.conf.outpost-tmp; ln -s " +
        victim +
        " etc/link.conf; touch planted; }",
      "exec sleep 3600",
    ].join("; ");
    const url = node.release(
      "fifo",
      `apiVersion: outpost/v1
name: fifo
version: 1.0.0
instance:
  parameters:
    type: object
    properties: { v: { type: string, default: "1" } }
  files:
    - { path: etc/app.conf, mode: "0600", content: "v={{params.v}}\\n" }
    - { path: etc/link.conf, mode: "0600", content: "link v={{params.v}}\\n" }
  processes:
    - { name: planter, command: ["/bin/sh", "-c", "${plant}"], restart: always }
  promises:
    - { name: planted, file: planted, interval: 1s }
`,
    );
    await node.supplyAndRequest("fifo", url, { v: "1" });
    const first = await node.ready("fifo");
    const dir = join(node.agentData, "partitions", `p${first.partition + 1}`);
    await eventually("the FIFO planted", 10_000, () =>
      lstatSync(join(dir, "etc", "app.conf")).isFIFO() ? true : undefined,
    );
    await node.client.request({ name: "fifo", software: url, parameters: { v: "2" } });
    await node.stillConverging();
    await eventually("files rewritten", 10_000, () => {
      const st = lstatSync(join(dir, "etc", "app.conf"));
      return st.isFile() && readFileSync(join(dir, "etc", "app.conf"), "utf8") === "v=2\n"
        ? true
        : undefined;
    });
    assert.ok(lstatSync(join(dir, "etc", "link.conf")).isFile(), "the link was replaced");
    assert.equal(readFileSync(join(dir, "etc", "link.conf"), "utf8"), "link v=2\n");
    assert.deepEqual(factsOf(victim), before, "the link's target is unchanged");
    const uid = node.partitionUid(first.partition + 1);
    const running = node.processesOf(uid, first.partition + 1);
    assert.ok(running.all.length > 0, "the planter runs as the partition's uid");
    assert.deepEqual(running.strays, [], "every process of its uid is in its cgroup");
    await node.client.destroy("fifo");
    await eventually("fifo destroyed", 10_000, async () =>
      (await node.show("fifo")) === undefined ? true : undefined,
    );
    assert.deepEqual(node.processesOf(uid, first.partition + 1).all, [], "none outlives destroy");
    await node.stillConverging();
  });
});
