import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MasterClient } from "../../master/index.js";
import { generateKeyPair, NodeLink } from "../../protocol/index.js";
import { chunk, hello } from "../master/master-harness.js";
import { startMasterProcess, stopMasterProcess } from "../master/master-process.js";

const echo = "https://example.org/echo/software.yaml";

/**
 * `kill -9` of a master process in the middle of telemetry ingest: every chunk it acked
 * is in the store after a restart on the same data directory (the ack follows the
 * commit), nothing is stored twice, and the rest of its state is all there.
 */
describe("fault: master killed with SIGKILL during ingest", function () {
  this.timeout(90_000);
  let data: string;
  const links: NodeLink[] = [];
  const children: ReturnType<typeof startMasterProcess>["child"][] = [];

  before(() => {
    data = mkdtempSync(join(tmpdir(), "outpost-master-kill9-"));
  });
  after(async () => {
    await Promise.all(links.map((l) => l.close()));
    for (const child of children) await stopMasterProcess(child);
    rmSync(data, { recursive: true, force: true });
  });

  async function start() {
    const proc = startMasterProcess(data);
    children.push(proc.child);
    const started = await proc.started;
    const token = readFileSync(join(data, "admin.token"), "utf8").trim();
    return { ...started, child: proc.child, client: new MasterClient(started.url, token) };
  }

  function linkTo(
    endpoint: string,
    masterPublicKey: string,
    keys: ReturnType<typeof generateKeyPair>,
  ) {
    const link = new NodeLink({ endpoint, masterPublicKey, keyPair: keys, timeoutMs: 10_000 });
    links.push(link);
    return link;
  }

  it("keeps every acked chunk and all desired state after kill -9 and a restart", async () => {
    const first = await start();
    const keys = generateKeyPair();
    await first.client.addNode("gw-1", keys.publicKey);
    await first.client.supply("gw-1", echo);
    const link = linkTo(first.endpoint, first.publicKey, keys);
    await link.hello(hello);
    await first.client.request({ name: "echo-1", software: echo, parameters: { port: "7000" } });
    await link.report({
      instances: [
        {
          name: "echo-1",
          status: "running",
          promises: [],
          connection: { url: "tcp://x:7000" },
          secrets: { software: echo, parameters: [], connection: [] },
        },
      ],
      usage: [{ instance: "echo-1", from: 0, to: 60_000, cpuSeconds: 2, memoryPeakBytes: 1 }],
    });

    // Four senders, one chunk in flight each, as a forwarder's window does; SIGKILL lands
    // while they are still going.
    const acked = new Set<number>();
    let next = 0;
    let stop = false;
    const senders = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const id = next++;
        try {
          await link.send(chunk(id));
          acked.add(id);
        } catch {
          return; // the master is gone
        }
      }
    });
    while (acked.size < 150) await new Promise((r) => setTimeout(r, 5));
    assert.equal(await stopMasterProcess(first.child, "SIGKILL"), null);
    stop = true;
    await link.close(); // the requests in flight fail now instead of at their timeout
    await Promise.all(senders);

    const second = await start();
    assert.equal(second.publicKey, first.publicKey, "same master key");
    const stored = await second.client.telemetry({ node: "gw-1", limit: 100_000 });
    const ids = stored.chunks.map((c) => c.chunkId);
    assert.equal(new Set(ids).size, ids.length, "a chunk was stored twice");
    const lost = [...acked].filter((id) => !ids.includes(id));
    assert.deepEqual(lost, [], "chunks acked before the kill are missing");

    const shown = await second.client.show("echo-1");
    assert.equal(shown.instance.node, "gw-1");
    assert.equal(shown.instance.status, "running");
    assert.deepEqual(shown.instance.connection, { url: "tcp://x:7000" });
    assert.equal(shown.usage[0]?.cpuSeconds, 2);
    const [node] = await second.client.listNodes();
    assert.equal(node?.partitions, hello.partitions);

    // The node comes back on the new endpoint with the same key: admitted, deduped.
    const again = linkTo(second.endpoint, second.publicKey, keys);
    const resent = [...acked][0] ?? 0;
    assert.deepEqual(await again.send(chunk(resent)), { chunkId: resent, duplicate: true });
    assert.deepEqual(
      (await again.sync()).instances.map((i) => i.name),
      ["echo-1"],
    );
  });
});
