import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { softwareId } from "../../agent/index.js";
import { HostileNode } from "./hostile-node.js";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * Item 2: release A's build, running at the same time as release B's, tries to rewrite
 * B's sha-pinned `run.sh` in B's work directory and in B's install tree. Each install
 * builds as an account of its own in directories only that account may enter, so every
 * attempt fails and B's instance runs B's code.
 */
describe("security: one build cannot touch another build's inputs or tree", function () {
  this.timeout(120_000);
  const node = new HostileNode();

  before(() => node.start());
  after(() => node.close());

  it("B's run.sh stays B's while A's build hammers at it; the two builds ran as different accounts", async () => {
    const runSh = '#!/bin/sh\necho victim-code > "$1"\nexec sleep 3600\n';
    const victimDescriptor = `apiVersion: outpost/v1
name: victim
version: 1.0.0
build:
  fetch:
    - { url: ./run.sh, sha256: ${sha256(runSh)} }
  steps:
    # Holds the build open long enough for the attacker to try.
    - run: ["sh", "-c", "sleep 3 && id -u > {{software}}/built-by && cp run.sh {{software}}/run.sh && chmod 0755 {{software}}/run.sh"]
instance:
  processes:
    - { name: main, command: ["{{software}}/run.sh", "{{partition.path}}/ran"], restart: always }
  promises:
    - { name: ran, file: ran, interval: 1s }
`;
    const victim = node.release("victim", victimDescriptor, { "run.sh": runSh });
    const id = softwareId(victim, victimDescriptor);
    const targets = [
      join(node.agentData, "builds", id, "run.sh"),
      join(node.agentData, "software", id, "run.sh"),
    ];
    // Every 50 ms for 5 s: overwrite the victim's run.sh wherever it is; log each result.
    const attack = targets
      .map(
        (t) =>
          `printf '#!/bin/sh\\necho attacker-code > "$1"\\nexec sleep 3600\\n' > ${t} 2>/dev/null && echo WROTE ${t}`,
      )
      .join("; ");
    const attacker = node.release(
      "attacker",
      `apiVersion: outpost/v1
name: attacker
version: 1.0.0
build:
  steps:
    - run: ["sh", "-c", "id -u > {{software}}/built-by; p=$(grep ':pids:' /proc/self/cgroup | cut -d: -f3); cat /sys/fs/cgroup/pids$p/pids.max > {{software}}/pids-max; for i in $(seq 100); do ${attack.replaceAll('"', '\\"')}; ls ${join(node.agentData, "builds")} >/dev/null 2>&1 && echo LISTED; sleep 0.05; done > {{software}}/attempts 2>&1; true"]
instance:
  processes:
    - { name: idle, command: ["/bin/sleep", "3600"], restart: always }
  promises:
    - { name: alive, command: ["/bin/true"], interval: 1s }
`,
    );
    await Promise.all([
      node.supplyAndRequest("attacker", attacker),
      node.supplyAndRequest("victim", victim),
    ]);
    const [a, v] = await Promise.all([
      node.ready("attacker", 30_000),
      node.ready("victim", 30_000),
    ]);
    const attackerTree = join(
      node.agentData,
      "software",
      softwareId(attacker, readFileSync(attacker)),
    );
    const attempts = readFileSync(join(attackerTree, "attempts"), "utf8");
    assert.match(attempts, /Permission denied/, "the attacker did try");
    assert.doesNotMatch(attempts, /WROTE|LISTED/, "no write and no listing succeeded");
    const victimTree = join(node.agentData, "software", id);
    assert.equal(readFileSync(join(victimTree, "run.sh"), "utf8"), runSh);
    const ran = join(node.agentData, "partitions", `p${v.partition + 1}`, "ran");
    assert.equal(readFileSync(ran, "utf8"), "victim-code\n");
    const uids = [attackerTree, victimTree].map((t) =>
      readFileSync(join(t, "built-by"), "utf8").trim(),
    );
    assert.notEqual(uids[0], uids[1], "each build had an account of its own");
    assert.equal(
      readFileSync(join(attackerTree, "pids-max"), "utf8").trim(),
      "4096",
      "its group's limit",
    );
    assert.ok(!uids.includes("0"));
    assert.ok(a.status === "running");
    assert.ok(!existsSync(join(node.agentData, "builds", id)), "the work directory is gone");
    await node.stillConverging();
  });
});
