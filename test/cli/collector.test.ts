import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseChunk, readUndelivered } from "../../buffer/index.js";
import {
  decodeRecord,
  RECORD_SCHEMA_FINGERPRINT,
  type RunningTurbineSim,
  recordToJsonLine,
  startTurbineSim,
} from "../../collector/index.js";
import { startOpcuaPeer } from "../collector/peers/opcua-peer.js";
import { type Peer, startPeer } from "../collector/peers/peer-process.js";
import { repoRoot, runOutpost } from "../helpers/run-outpost.js";

const PYTHON = "/usr/bin/python3";
const PYMODBUS = join(repoRoot, "test", "collector", "peers", "pymodbus_server.py");
const SECURED_SERVER = join(repoRoot, "test", "collector", "peers", "opcua-secured-server.ts");

/** Known values, encoded by pymodbus (Python's struct), not by us. */
const peerTags = [
  { register: "holding", address: 0, type: "uint64", order: "ABCD", value: "18446744073709551614" },
  { register: "holding", address: 4, type: "float32", order: "CDAB", value: 12.5 },
  { register: "input", address: 0, type: "int16", order: "ABCD", value: -215 },
  { register: "coil", address: 1, type: "bool", order: "ABCD", value: true },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface CliChild {
  /** stdout lines, each with the time it arrived. */
  lines: { text: string; at: number }[];
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** `outpost ARGS` as a child process that keeps running, its output captured as it comes. */
function cliChild(args: readonly string[]): CliChild {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(repoRoot, "cli", "main.ts"), ...args],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
  );
  const lines: { text: string; at: number }[] = [];
  let rest = "";
  child.stdout.on("data", (d: Buffer) => {
    const at = Date.now();
    const parts = (rest + d.toString()).split("\n");
    rest = parts.pop() ?? "";
    for (const text of parts) lines.push({ text, at });
  });
  let err = "";
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return {
    lines,
    stderr: () => err,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe("outpost collector", function () {
  this.timeout(90_000);
  let dir: string;
  let modbus: Peer;
  let opcua: Peer;
  let deadPort: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "outpost-cli-collector-"));
    modbus = await startPeer(PYTHON, [
      PYMODBUS,
      JSON.stringify({ mode: "tcp", units: [1], tags: peerTags }),
    ]);
    opcua = await startOpcuaPeer({ port: 0, dataDir: join(dir, "server") });
    deadPort = await closedPort();
  });
  after(async () => {
    await modbus?.stop();
    await opcua?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function writeConfig(name: string, text: string): string {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  }

  const plcConfig = () => `
dataDir: ${join(dir, "collector")}
devices:
  - name: plc
    modbus: { tcp: "127.0.0.1:${modbus.hello.port}", unit: 1, timeout: 1s }
    tags:
      - { name: energy_wh, register: holding, address: 0, type: uint64, unit: Wh }
      - { name: rotor_rpm, register: holding, address: 4, type: float32, order: CDAB, unit: rpm }
      - { name: temp_c, register: input, address: 0, type: int16, scale: 0.1, unit: degC }
      - { name: running, register: coil, address: 1, type: bool }
  - name: nacelle
    opcua: { endpoint: "${opcua.hello.endpoint}" }
    tags:
      - { name: power_kw, node: "ns=1;s=Power", samplingInterval: 100ms, unit: kW }
  - name: offline
    modbus: { tcp: "127.0.0.1:${deadPort}", timeout: 300ms }
    tags:
      - { name: wind, register: holding, address: 0, type: float32 }
output: { buffer: ${join(dir, "buffer")}, stream: telemetry }
`;

  describe("read --once", () => {
    it("--json prints one NDJSON record per tag: 64-bit values as exact decimal strings, a dead device's tag with a bad quality", () => {
      const file = writeConfig("read.yaml", plcConfig());
      const r = runOutpost(["collector", "read", "--config", file, "--once", "--json"]);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trimEnd().split("\n");
      assert.equal(lines.length, 6);
      const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      for (const rec of records) {
        assert.deepEqual(
          Object.keys(rec).filter((k) => k !== "unit"),
          ["device", "tag", "ts", "value", "quality"],
        );
        assert.ok(!Number.isNaN(Date.parse(rec.ts as string)));
      }
      const by = (tag: string) => records.find((x) => x.tag === tag);
      assert.deepEqual(
        { ...by("energy_wh"), ts: undefined },
        {
          device: "plc",
          tag: "energy_wh",
          ts: undefined,
          value: "18446744073709551614",
          quality: "good",
          unit: "Wh",
        },
      );
      assert.equal(by("rotor_rpm")?.value, 12.5);
      assert.ok(Math.abs((by("temp_c")?.value as number) + 21.5) < 1e-9);
      assert.equal(by("running")?.value, true);
      assert.equal(by("power_kw")?.quality, "good");
      assert.equal(typeof by("power_kw")?.value, "number");
      assert.deepEqual([by("wind")?.value, by("wind")?.quality], [null, "comm_error"]);
    });

    it("prints a table without --json", () => {
      const file = writeConfig("table.yaml", plcConfig());
      const r = runOutpost(["collector", "read", "--config", file, "--once", "--wait", "3000"]);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trimEnd().split("\n");
      assert.match(lines[0] ?? "", /^DEVICE\s+TAG\s+VALUE\s+UNIT\s+QUALITY$/);
      assert.ok(lines.some((l) => /^plc\s+energy_wh\s+18446744073709551614\s+Wh\s+good$/.test(l)));
      assert.ok(lines.some((l) => /^offline\s+wind\s+-\s+comm_error$/.test(l)));
    });

    it("refuses to run without --once (exit 2)", () => {
      const file = writeConfig("noonce.yaml", plcConfig());
      const r = runOutpost(["collector", "read", "--config", file]);
      assert.equal(r.status, 2);
      assert.equal(r.stderr, "outpost: collector read: --once is required\n");
    });

    it("names file, line and key of a schema error (a bool type on a holding register)", () => {
      const file = writeConfig(
        "bad-type.yaml",
        `devices:\n  - name: plc\n    modbus: { tcp: "127.0.0.1:502" }\n    tags:\n      - { name: a, register: holding, address: 0, type: bool }\n`,
      );
      const r = runOutpost(["collector", "read", "--config", file, "--once"]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`^outpost: ${file}:5:\\d+: devices\\[0\\]\\.tags\\[0\\]`));
      assert.equal(r.stderr.split("\n").length, 2);
    });

    it("names file, line and key of a consistency error the schema cannot express (a duplicate tag)", () => {
      const file = writeConfig(
        "dup.yaml",
        [
          "devices:",
          "  - name: plc",
          '    modbus: { tcp: "127.0.0.1:502" }',
          "    tags:",
          "      - { name: a, register: holding, address: 0, type: int16 }",
          "      - { name: a, register: holding, address: 1, type: int16 }",
          "",
        ].join("\n"),
      );
      const r = runOutpost(["collector", "read", "--config", file, "--once"]);
      assert.equal(r.status, 1);
      assert.equal(
        r.stderr,
        `outpost: ${file}:6:17: devices[0].tags[1].name: duplicate tag 'a' in device 'plc' [E_CONFIG]; fix that line of the file\n`,
      );
    });
  });

  describe("browse", () => {
    it("prints the server's address space as a tree", () => {
      const r = runOutpost([
        ...["collector", "browse", opcua.hello.endpoint as string],
        ...["--data-dir", join(dir, "collector")],
      ]);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trimEnd().split("\n");
      assert.match(lines[0] ?? "", /^Objects {2}ns=0;i=85 {2}Object$/);
      assert.ok(
        lines.some((l) => /^ {2}1:Turbine {2}ns=1;\S+ {2}Object$/.test(l)),
        r.stdout,
      );
      assert.ok(lines.includes("    1:Power  ns=1;s=Power  Variable"), r.stdout);
      assert.ok(!r.stdout.includes("ns=0;i=2253"), "the standard Server object is left out");
    });

    it("--json prints the tree as one JSON document", () => {
      const r = runOutpost([
        ...["collector", "browse", opcua.hello.endpoint as string, "--json"],
        ...["--data-dir", join(dir, "collector"), "--depth", "2"],
      ]);
      assert.equal(r.status, 0, r.stderr);
      const tree = JSON.parse(r.stdout) as {
        browseName: string;
        children: { browseName: string; children: { nodeId: string; nodeClass: string }[] }[];
      };
      assert.equal(tree.browseName, "Objects");
      const turbine = tree.children.find((c) => c.browseName === "1:Turbine");
      assert.ok(turbine);
      assert.ok(turbine.children.some((c) => c.nodeId === "ns=1;s=EnergyWh"));
    });

    it("fails with one line naming an endpoint nothing listens on", () => {
      const endpoint = `opc.tcp://127.0.0.1:${deadPort}`;
      const r = runOutpost(["collector", "browse", endpoint, "--data-dir", join(dir, "collector")]);
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        new RegExp(`^outpost: ${endpoint}: cannot connect \\(.+\\) \\[E_OPCUA_CONNECTION\\]\\n$`),
      );
    });

    describe("against a server with only a secured endpoint", () => {
      let secured: Peer;
      before(async () => {
        secured = await startPeer(
          process.execPath,
          ["--import", "tsx", SECURED_SERVER, JSON.stringify({ dataDir: join(dir, "secured") })],
          { timeoutMs: 60_000 },
        );
      });
      after(() => secured?.stop());

      it("browse fails with a typed error (exit 1, not an internal error) naming the endpoints offered and the flags to pass", () => {
        const endpoint = secured.hello.endpoint as string;
        const r = runOutpost(["collector", "browse", endpoint, "--data-dir", join(dir, "b")]);
        assert.equal(r.status, 1);
        assert.equal(
          r.stderr
            .split("\n")
            .filter((l) => l.startsWith("outpost: "))
            .join("\n"),
          `outpost: ${endpoint}: the server has no endpoint for security None; it offers SignAndEncrypt/Basic256Sha256: pass --security-mode SignAndEncrypt --security-policy Basic256Sha256 [E_OPCUA_ENDPOINT]; connect with a security mode and policy the server offers`,
        );
        assert.doesNotMatch(r.stderr, /internal error/);
      });

      it("read names the device's config keys to set instead", () => {
        const endpoint = secured.hello.endpoint as string;
        const file = writeConfig(
          "secured.yaml",
          `dataDir: ${join(dir, "b")}\ndevices:\n  - name: vault\n    opcua: { endpoint: "${endpoint}" }\n    tags:\n      - { name: secret, node: "ns=1;s=Secret" }\n`,
        );
        const r = runOutpost(["collector", "read", "--config", file, "--once", "--json"]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(JSON.parse(r.stdout).quality, "comm_error");
        const backoff = r.stderr
          .split("\n")
          .filter((l) => l.includes('"input.backoff"'))
          .map((l) => JSON.parse(l) as { code: string; err: string });
        assert.equal(backoff[0]?.code, "E_OPCUA_ENDPOINT", r.stderr);
        assert.match(
          backoff[0]?.err ?? "",
          /it offers SignAndEncrypt\/Basic256Sha256: set opcua\.security: \{ mode: SignAndEncrypt, policy: Basic256Sha256 \} on device 'vault'$/,
        );
      });
    });

    it("refuses an endpoint that is not opc.tcp:// (exit 2)", () => {
      const r = runOutpost(["collector", "browse", "http://127.0.0.1:4840"]);
      assert.equal(r.status, 2);
      assert.equal(
        r.stderr,
        "outpost: endpoint 'http://127.0.0.1:4840': must start with opc.tcp://\n",
      );
    });
  });

  describe("run", () => {
    it("writes Avro records to the buffer, the schema fingerprint in each chunk header, 64-bit values exact", async () => {
      const file = writeConfig(
        "run.yaml",
        plcConfig().replace(/timeout: 1s }/, "timeout: 1s }\n    interval: 200ms"),
      );
      const child = spawn(
        process.execPath,
        ["--import", "tsx", join(repoRoot, "cli", "main.ts"), "collector", "run", "--config", file],
        { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"] },
      );
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      const deadline = Date.now() + 30_000;
      // node-opcua loads when the OPC-UA device starts; count from its subscription on.
      while (!stderr.includes('"opcua.subscribed"') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 1500));
      child.kill("SIGTERM");
      assert.equal(await exited, 0, stderr);
      assert.match(stderr, /"collector.stopped"/);

      const streamDir = join(dir, "buffer", "streams", "telemetry");
      const chunks = readdirSync(streamDir).filter((f) => f.endsWith(".chunk"));
      assert.ok(chunks.length >= 1);
      for (const c of chunks) {
        const parsed = parseChunk(readFileSync(join(streamDir, c)), 1 << 20);
        assert.ok(parsed.header?.schema.equals(RECORD_SCHEMA_FINGERPRINT), `${c} header`);
      }
      const records = [];
      for await (const r of readUndelivered(join(dir, "buffer"), { stream: "telemetry" })) {
        records.push(decodeRecord(r.payload));
      }
      const energy = records.filter((r) => r.tag === "energy_wh");
      assert.ok(energy.length >= 3, `${energy.length} energy records`);
      assert.ok(energy.every((r) => r.value === 18446744073709551614n && r.unit === "Wh"));
      assert.ok(records.some((r) => r.tag === "power_kw" && r.quality === "good"));
      assert.ok(records.some((r) => r.tag === "wind" && r.quality === "comm_error"));
    });
  });

  describe("tail", () => {
    let sim: RunningTurbineSim;
    before(async () => {
      sim = await startTurbineSim({ seed: 5, modbus: { host: "127.0.0.1", port: 0 } });
    });
    after(() => sim?.stop());

    it("prints the records a collector running in another process writes, from now on, each within a second, exactly as the buffer holds them", async () => {
      const buffer = join(dir, "tail-buffer");
      const file = writeConfig(
        "tail.yaml",
        [
          `dataDir: ${join(dir, "tail-collector")}`,
          "devices:",
          "  - name: turbine",
          "    interval: 100ms",
          `    modbus: { tcp: "127.0.0.1:${sim.modbus?.port}", timeout: 1s }`,
          "    tags:",
          "      - { name: sample, register: holding, address: 16, type: uint32 }",
          "      - { name: energy_wh, register: holding, address: 10, type: uint64, unit: Wh }",
          "      - { name: wind, register: holding, address: 0, type: float32, unit: m/s }",
          `output: { buffer: ${buffer}, stream: telemetry }`,
          "",
        ].join("\n"),
      );
      const collector = cliChild(["collector", "run", "--config", file]);
      let tail: CliChild | undefined;
      let table: CliChild | undefined;
      let printedLines: string[] = [];
      try {
        // Two seconds of records the tail must not print: it starts from the end.
        const startBy = Date.now() + 30_000;
        while (!collector.stderr().includes('"collector.started"')) {
          assert.ok(Date.now() < startBy, `collector did not start: ${collector.stderr()}`);
          await sleep(50);
        }
        await sleep(2000);
        const tailStart = Date.now();
        tail = cliChild(["collector", "tail", "--config", file]);
        table = cliChild(["collector", "tail", "--config", file, "--table"]);
        const deadline = Date.now() + 30_000;
        while ((tail.lines.length < 45 || table.lines.length < 4) && Date.now() < deadline) {
          await sleep(50);
        }
        assert.ok(tail.lines.length >= 45, `${tail.lines.length} lines: ${tail.stderr()}`);
        const printed = tail.lines.map((l) => ({
          ...l,
          record: JSON.parse(l.text) as { device: string; tag: string; ts: string; value: unknown },
        }));
        const first = Date.parse(printed[0]?.record.ts as string);
        assert.ok(
          first >= tailStart - 500,
          `the first record printed is from before the tail started`,
        );
        const latencies = printed.map((p) => p.at - Date.parse(p.record.ts)).sort((a, b) => a - b);
        assert.ok((latencies.at(-1) as number) < 1000, `latencies ${latencies.join(",")}`);
        console.log(
          `      tail latency, poll to print: median ${latencies[latencies.length >> 1]} ms, max ${latencies.at(-1)} ms over ${latencies.length} records`,
        );
        assert.match(
          table.lines[0]?.text ?? "",
          /^TIME {22}DEVICE {12}TAG {34}VALUE {2}UNIT {6}QUALITY$/,
        );
        assert.match(
          table.lines
            .slice(1)
            .map((l) => l.text)
            .join("\n"),
          /^\S+Z {2}turbine {11}energy_wh {18,}\d+ {2}Wh {8}good$/m,
        );
        printedLines = tail.lines.map((l) => l.text);
        assert.equal(await tail.stop(), 0, tail.stderr());
        assert.equal(await table.stop(), 0, table.stderr());
        tail = undefined;
        table = undefined;
      } finally {
        await tail?.stop();
        await table?.stop();
        assert.equal(await collector.stop(), 0, collector.stderr());
      }
      // What the tail printed is a run of the buffer's records: none missing, none twice.
      const stored: string[] = [];
      for await (const r of readUndelivered(buffer, { stream: "telemetry" })) {
        stored.push(recordToJsonLine(decodeRecord(r.payload, r.schema)));
      }
      const at = stored.indexOf(printedLines[0] as string);
      assert.ok(at > 0, "the first printed record is in the buffer, after records written before");
      assert.deepEqual(stored.slice(at, at + printedLines.length), printedLines);
    });
  });
});
