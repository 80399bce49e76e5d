import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { Collector, type OpcuaInput } from "../../../collector/index.js";

import { collectorConfig, MemoryOutput, quietLogger, waitFor } from "../fixtures.js";
import { startOpcuaPeer } from "../peers/opcua-peer.js";
import type { Peer } from "../peers/peer-process.js";

const SIGNALS = [
  "WindSpeed",
  "RotorRpm",
  "Power",
  "Pitch",
  "NacelleTemp",
  "Vibration",
  "Alarms",
  "Running",
  "EnergyWh",
];

describe("collector OPC-UA against a node-opcua server in another process", function () {
  this.timeout(90_000);
  let dir: string;
  let server: Peer;
  let port: number;
  const defaultPki = join(homedir(), ".config", "node-opcua-default-nodejs");
  const hadDefaultPki = existsSync(defaultPki);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "outpost-opcua-"));
    // Three items per subscription: nine tags need three subscriptions.
    server = await startOpcuaPeer({
      port: 0,
      dataDir: join(dir, "server"),
      maxMonitoredItemsPerSubscription: 3,
    });
    port = server.hello.port as number;
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const endpoint = () => `opc.tcp://127.0.0.1:${port}`;
  const tags = (names: string[]) => names.map((n) => ({ name: n, node: `ns=1;s=${n}` }));

  it("subscribes to every tag, spreading items over subscriptions when the server caps them", async () => {
    const output = new MemoryOutput();
    const config = collectorConfig({
      dataDir: join(dir, "client"),
      devices: [
        {
          name: "nacelle",
          interval: "100ms",
          opcua: { endpoint: endpoint(), batchSize: 4 },
          tags: [...tags(SIGNALS), { name: "gone", node: "ns=1;s=NoSuchNode" }],
        },
      ],
    });
    const collector = new Collector(config, { output, logger: quietLogger });
    await collector.start();
    try {
      await waitFor(
        () => SIGNALS.every((s) => output.of("nacelle", s).some((r) => r.quality === "good")),
        20_000,
        "every signal good",
      );
      const input = collector.inputs[0] as OpcuaInput;
      assert.equal(input.monitoredCount, SIGNALS.length);
      assert.ok(input.subscriptionCount >= 3, `${input.subscriptionCount} subscriptions`);
      const energy = output.of("nacelle", "EnergyWh").at(-1);
      assert.equal(typeof energy?.value, "bigint");
      assert.equal(typeof output.of("nacelle", "Running").at(-1)?.value, "boolean");
      assert.ok(output.of("nacelle", "Power").every((r) => typeof r.serverTs === "number"));
      const gone = output.of("nacelle", "gone");
      assert.ok(
        gone.length >= 1 && gone.every((r) => r.quality === "BadNodeIdUnknown" && r.value === null),
      );
    } finally {
      await collector.stop();
    }
  });

  it("refuses a server certificate it does not trust, with a clear error, and accepts it once trusted", async () => {
    const clientDir = join(dir, "secure-client");
    const config = collectorConfig({
      dataDir: clientDir,
      devices: [
        {
          name: "secure",
          opcua: {
            endpoint: endpoint(),
            security: { mode: "SignAndEncrypt", policy: "Basic256Sha256" },
          },
          tags: tags(["Power"]),
        },
      ],
    });
    const output = new MemoryOutput();
    const collector = new Collector(config, {
      output,
      logger: quietLogger,
      backoff: { initialMs: 200, maxMs: 200 },
    });
    await collector.start();
    try {
      await waitFor(() => output.records.length > 0, 20_000, "a record");
      assert.equal(
        output.records[0]?.quality,
        "untrusted_certificate",
        collector.stats()[0]?.lastError,
      );
      const [stats] = collector.stats();
      assert.match(
        stats?.lastError ?? "",
        /server certificate is not trusted \(BadCertificateUntrusted\); it was saved as .*secure-client\/pki\/rejected\/[^/]+\[[0-9a-f]{40}\]\.pem: move it into .*secure-client\/pki\/trusted\/certs/,
      );
      const rejected = join(clientDir, "pki", "rejected");
      const [cert] = readdirSync(rejected);
      assert.ok(cert, "the refused certificate is kept under rejected/");
      // What an operator does: trust it by moving it; the running collector picks it up.
      renameSync(join(rejected, cert), join(clientDir, "pki", "trusted", "certs", cert));
      await waitFor(() => output.records.some((r) => r.quality === "good"), 30_000, "a good value");
    } finally {
      await collector.stop();
    }
  });

  it("logs in with user and password, and a wrong password leaves the tags comm_error naming the refusal", async () => {
    const secured = await startOpcuaPeer({
      port: 0,
      dataDir: join(dir, "users-server"),
      users: { operator: "s3cret" },
    });
    const device = (name: string, password: string) => ({
      name,
      interval: "100ms",
      opcua: {
        endpoint: secured.hello.endpoint,
        security: { mode: "None", user: "operator", password },
      },
      tags: tags(["Power"]),
    });
    const output = new MemoryOutput();
    const collector = new Collector(
      collectorConfig({
        dataDir: join(dir, "client"),
        devices: [device("right", "s3cret"), device("wrong", "guess")],
      }),
      { output, logger: quietLogger, backoff: { initialMs: 500, maxMs: 500 } },
    );
    await collector.start();
    try {
      await waitFor(
        () => output.of("right").some((r) => r.quality === "good") && output.of("wrong").length > 0,
        20_000,
        "a good value and a refusal",
      );
      assert.ok(output.of("wrong").every((r) => r.quality === "comm_error" && r.value === null));
      const wrong = collector.stats().find((x) => x.device === "wrong");
      assert.match(
        wrong?.lastError ?? "",
        /session refused \(.*BadUserAccessDenied.*\): check opcua\.security\.user and password \(or certificate and privateKey\) of device 'wrong'$/,
      );
    } finally {
      await collector.stop();
      await secured.stop();
    }
  });

  it("applies an absolute deadband: a signal that moves less than it is notified once", async () => {
    const output = new MemoryOutput();
    const config = collectorConfig({
      dataDir: join(dir, "client"),
      devices: [
        {
          name: "nacelle",
          interval: "100ms",
          opcua: { endpoint: endpoint() },
          tags: [
            { name: "every", node: "ns=1;s=WindSpeed", samplingInterval: "100ms" },
            {
              name: "banded",
              node: "ns=1;s=WindSpeed",
              samplingInterval: "100ms",
              deadband: { absolute: 1000 },
            },
          ],
        },
      ],
    });
    const collector = new Collector(config, { output, logger: quietLogger });
    await collector.start();
    try {
      await waitFor(() => output.of("nacelle", "every").length >= 8, 20_000, "8 wind changes");
      assert.equal(output.of("nacelle", "banded").length, 1);
    } finally {
      await collector.stop();
    }
  });

  it("keeps its PKI in the collector's data dir, never in ~/.config", () => {
    assert.ok(existsSync(join(dir, "client", "pki", "own", "certs")));
    assert.equal(existsSync(defaultPki), hadDefaultPki);
  });
});
