import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Collector, type RunningTurbineSim, startTurbineSim } from "../../collector/index.js";
import {
  collectorConfig,
  MemoryOutput,
  quietLogger,
  sleep,
  waitFor,
} from "../collector/fixtures.js";
import { startOpcuaPeer } from "../collector/peers/opcua-peer.js";
import type { Peer } from "../collector/peers/peer-process.js";

describe("collector facing an OPC-UA server that vanishes and comes back changed", function () {
  this.timeout(90_000);
  let dir: string;
  let server: Peer | undefined;
  let port: number;
  let modbus: RunningTurbineSim | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "outpost-opcua-restart-"));
    server = await startOpcuaPeer({ port: 0, dataDir: join(dir, "server") });
    port = server.hello.port as number;
    modbus = await startTurbineSim({ seed: 3, modbus: { host: "127.0.0.1", port: 0 } });
  });
  after(async () => {
    await server?.stop();
    await modbus?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const endpoint = () => `opc.tcp://127.0.0.1:${port}`;
  const tags = (names: string[]) => names.map((n) => ({ name: n, node: `ns=1;s=${n}` }));

  it("marks every tag comm_error when the server vanishes, keeps a Modbus device on schedule, resumes after a restart that drops a node id with that item bad and the others flowing", async () => {
    const output = new MemoryOutput();
    const config = collectorConfig({
      dataDir: join(dir, "client"),
      devices: [
        {
          name: "nacelle",
          interval: "100ms",
          opcua: { endpoint: endpoint(), timeout: "2s" },
          tags: tags(["Power", "WindSpeed", "Pitch"]),
        },
        {
          name: "tower",
          interval: "100ms",
          modbus: { tcp: `127.0.0.1:${modbus?.modbus?.port}`, timeout: "200ms" },
          tags: [{ name: "wind", register: "holding", address: 0, type: "float32" }],
        },
      ],
    });
    const collector = new Collector(config, {
      output,
      logger: quietLogger,
      backoff: { initialMs: 300, maxMs: 1000 },
    });
    await collector.start();
    try {
      await waitFor(
        () => output.of("nacelle", "Power").some((r) => r.quality === "good"),
        20_000,
        "first values",
      );
      const killedAt = output.records.length;
      await server?.stop();
      await waitFor(
        () =>
          ["Power", "WindSpeed", "Pitch"].every((t) =>
            output.records
              .slice(killedAt)
              .some((r) => r.tag === t && r.quality === "comm_error" && r.value === null),
          ),
        20_000,
        "comm_error on every tag while down",
      );
      const down = output.records.length;
      const towerBefore = output.of("tower").length;
      await sleep(1000);
      const towerDown = output.of("tower").slice(towerBefore);
      assert.ok(towerDown.length >= 7, `Modbus device polled ${towerDown.length} times in 1 s`);
      assert.ok(towerDown.every((r) => r.quality === "good"));
      server = await startOpcuaPeer({ port, dataDir: join(dir, "server"), omit: ["Power"] });
      await waitFor(
        () =>
          output.records.slice(down).filter((r) => r.tag === "WindSpeed" && r.quality === "good")
            .length >= 3,
        30_000,
        "WindSpeed flowing again",
      );
      await sleep(300);
      const after = output.records.slice(down);
      assert.ok(after.some((r) => r.tag === "Power" && r.quality === "BadNodeIdUnknown"));
      assert.ok(!after.some((r) => r.tag === "Power" && r.quality === "good"));
      assert.ok(after.some((r) => r.tag === "Pitch" && r.quality === "good"));
      assert.ok((collector.stats()[0]?.failures ?? 0) >= 1);
    } finally {
      await collector.stop();
    }
  });
});
