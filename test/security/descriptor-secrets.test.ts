import { strict as assert } from "node:assert";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "../helpers/until.js";
import { HostileNode } from "./hostile-node.js";

/**
 * Item 4: `outpost supply file:///etc/shadow` then a request showed every line of the
 * file in the instance's failed promise at the master. Descriptors are now read as an
 * unprivileged account and never from the agent's data dir, and a parse error names
 * keys and positions, never the text.
 */
describe("security: a descriptor URL cannot make the agent show a root-only file", function () {
  this.timeout(120_000);
  const node = new HostileNode();

  before(() => node.start());
  after(() => node.close());

  async function failure(name: string, url: string): Promise<string> {
    await node.supplyAndRequest(name, url);
    const failed = await node.failed(name);
    await node.client.destroy(name);
    await eventually(`${name} gone`, 20_000, async () =>
      (await node.show(name)) === undefined ? true : undefined,
    );
    return failed.promises.map((p) => p.message ?? "").join("\n");
  }

  it("file:///etc/shadow: refused by the kernel for the reader; no line of it reaches the master", async () => {
    const message = await failure("shadow", "file:///etc/shadow");
    assert.match(
      message,
      /cannot fetch file:\/\/\/etc\/shadow: Permission denied \(read as 'nobody'\)/,
    );
    for (const line of readFileSync("/etc/shadow", "utf8")
      .split("\n")
      .filter((l) => l.length > 0))
      assert.ok(!message.includes(line), "no line of /etc/shadow");
  });

  it("a root-only YAML file: neither its keys nor its values reach the master", async () => {
    const secret = join(node.tmp, "secret.yaml");
    writeFileSync(secret, "database_password_key: hunter2-hunter2\n", { mode: 0o600 });
    const message = await failure("yaml-secret", secret);
    assert.match(message, /Permission denied/);
    assert.doesNotMatch(message, /database_password_key|hunter2/);
  });

  it("the node key by path: refused by rule before any read", async () => {
    const key = readFileSync(join(node.agentData, "node.key"), "utf8").trim();
    const message = await failure("key", `file://${join(node.agentData, "node.key")}`);
    assert.match(message, /inside the agent's data directory/);
    assert.ok(!message.includes(key));
    await node.stillConverging();
  });
});
