import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { eventually } from "../helpers/until.js";
import { HostileNode } from "./hostile-node.js";

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

/**
 * Item 3: `build.fetch` named the node's CURVE secret, and the install copied it into a
 * tree every partition can read (the sha256 mismatch even printed the hash to pin). Now
 * the agent's data dir is refused whatever the path (links resolved first), sources
 * must lie below the descriptor's own directory (or a --file-root), and sources are
 * read as an unprivileged account: a root-only file beside the descriptor is refused by
 * the kernel. No error carries the file's content or hash.
 */
describe("security: build.fetch cannot read the node key or any root-only file", function () {
  this.timeout(120_000);
  const node = new HostileNode();
  let secret: string;

  before(async () => {
    await node.start();
    secret = readFileSync(join(node.agentData, "node.key"), "utf8");
  });
  after(() => node.close());

  function fetching(name: string, url: string): string {
    return `apiVersion: outpost/v1
name: ${name}
version: 1.0.0
build:
  fetch:
    - { url: "${url}", sha256: "${"0".repeat(64)}" }
  steps:
    - run: ["sh", "-c", "cp * {{software}}/ 2>/dev/null; true"]
instance:
  processes:
    - { name: idle, command: ["/bin/sleep", "3600"], restart: always }
`;
  }

  async function refused(name: string, descriptor: (dir: string) => string, files = {}) {
    const placeholder = node.release(name, "", files);
    writeFileSync(placeholder, descriptor(dirname(placeholder)));
    await node.supplyAndRequest(name, placeholder);
    const failed = await node.failed(name);
    const message = failed.promises.map((p) => p.message ?? "").join("\n");
    assert.ok(!message.includes(secret.trim()), "the key is not in the error");
    assert.ok(!message.includes(sha256(secret)), "nor its hash");
    await node.client.destroy(name);
    await eventually(`${name} gone`, 20_000, async () =>
      (await node.show(name)) === undefined ? true : undefined,
    );
    return message;
  }

  it("refuses the node key by path, naming the rule", async () => {
    const message = await refused("key-by-path", () =>
      fetching("key-by-path", `file://${join(node.agentData, "node.key")}`),
    );
    assert.match(message, /E_AGENT_FETCH|cannot fetch/);
    assert.match(message, /inside the agent's data directory/);
  });

  it("refuses the node key through a symlink beside the descriptor", async () => {
    const message = await refused("key-by-link", (d) => {
      symlinkSync(join(node.agentData, "node.key"), join(d, "key"));
      return fetching("key-by-link", "./key");
    });
    assert.match(message, /inside the agent's data directory/);
  });

  it("refuses a file outside the descriptor's directory and every --file-root", async () => {
    const message = await refused("shadow", () => fetching("shadow", "file:///etc/shadow"));
    assert.match(message, /neither below the descriptor's directory nor below a --file-root/);
    const shadow = readFileSync("/etc/shadow", "utf8")
      .split("\n")
      .filter((l) => l.length > 8);
    for (const line of shadow) assert.ok(!message.includes(line));
  });

  it("reads sources as an unprivileged account: a root-only file beside the descriptor is refused by the kernel", async () => {
    const content = "root-only material\n";
    const message = await refused("root-only", (d) => {
      writeFileSync(join(d, "private.bin"), content, { mode: 0o600 });
      return fetching("root-only", "./private.bin");
    });
    assert.match(message, /Permission denied/);
    assert.ok(!message.includes(sha256(content)), "no hash of what it could not read");
    assert.ok(!message.includes(content.trim()));
  });

  it("copied none of it into any tree a partition can read, and keeps converging", async () => {
    for (const tree of readdirSync(join(node.agentData, "software")))
      for (const file of readdirSync(join(node.agentData, "software", tree), { recursive: true }))
        assert.ok(!String(file).includes("key"), `no key copy in ${tree}`);
    await node.stillConverging();
  });
});
