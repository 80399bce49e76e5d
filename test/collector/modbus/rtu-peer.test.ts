import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readOnce } from "../../../collector/index.js";
import { repoRoot } from "../../helpers/run-outpost.js";
import { collectorConfig, quietLogger } from "../fixtures.js";
import { type Peer, startPeer } from "../peers/peer-process.js";

const PYTHON = "/usr/bin/python3";
const SERVER = join(repoRoot, "test", "collector", "peers", "pymodbus_server.py");

const tags = [
  { register: "holding", address: 0, type: "float32", order: "CDAB", value: 7.25 },
  { register: "holding", address: 2, type: "uint64", order: "ABCD", value: "18446744073709551000" },
  { register: "input", address: 5, type: "int16", order: "ABCD", value: -300 },
  { register: "coil", address: 1, type: "bool", order: "ABCD", value: true },
];
const configTags = [
  { name: "rpm", register: "holding", address: 0, type: "float32", order: "CDAB" },
  { name: "energy", register: "holding", address: 2, type: "uint64" },
  { name: "temp", register: "input", address: 5, type: "int16", scale: 0.1 },
  { name: "running", register: "coil", address: 1, type: "bool" },
];

/** A pty pair from socat: one end for pymodbus, the other for the collector. */
async function ptyPair(dir: string, name: string): Promise<{ peer: Peer; a: string; b: string }> {
  const a = join(dir, `${name}-a`);
  const b = join(dir, `${name}-b`);
  const peer = await startPeer(
    "socat",
    ["-d", "-d", `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`],
    { matchStderr: /starting data transfer loop/ },
  );
  return { peer, a, b };
}

function assertValues(records: Awaited<ReturnType<typeof readOnce>>, device: string) {
  const v = (tag: string) => records.find((r) => r.device === device && r.tag === tag);
  for (const tag of ["rpm", "energy", "temp", "running"])
    assert.equal(v(tag)?.quality, "good", `${device}.${tag}: ${v(tag)?.quality}`);
  assert.equal(v("rpm")?.value, 7.25);
  assert.equal(v("energy")?.value, 18446744073709551000n);
  assert.equal(v("temp")?.value, -30);
  assert.equal(v("running")?.value, true);
}

describe("collector Modbus RTU against pymodbus over socat", function () {
  this.timeout(60_000);
  const peers: Peer[] = [];
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-rtu-"));
  });
  after(async () => {
    for (const p of peers.reverse()) await p.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads two units on one RTU serial line (a pty pair), one request at a time", async () => {
    const pair = await ptyPair(dir, "serial");
    peers.push(pair.peer);
    peers.push(
      await startPeer(PYTHON, [
        SERVER,
        JSON.stringify({ mode: "rtu", device: pair.a, units: [1, 2], tags }),
      ]),
    );
    // Linux ptys refuse parity bits (tcsetattr EINVAL), so this line runs 8N1.
    const rtu = { port: pair.b, baud: 19200, parity: "none" };
    const config = collectorConfig({
      dataDir: "/x",
      devices: [
        { name: "u1", modbus: { rtu, unit: 1 }, tags: configTags },
        { name: "u2", modbus: { rtu, unit: 2 }, tags: configTags },
      ],
    });
    const records = await readOnce(config, quietLogger, 8000);
    assertValues(records, "u1");
    assertValues(records, "u2");
  });

  it("reads RTU framing over TCP through socat to a serial pymodbus", async () => {
    const pair = await ptyPair(dir, "gateway");
    peers.push(pair.peer);
    peers.push(
      await startPeer(PYTHON, [
        SERVER,
        JSON.stringify({ mode: "rtu", device: pair.a, units: [1], tags }),
      ]),
    );
    const bridge = await startPeer(
      "socat",
      ["-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1,reuseaddr", `${pair.b},raw,echo=0`],
      { matchStderr: /listening on .*:(\d+)/ },
    );
    peers.push(bridge);
    const port = (bridge.hello.match as string[])[0];
    const config = collectorConfig({
      dataDir: "/x",
      devices: [
        { name: "gw", modbus: { rtuOverTcp: `127.0.0.1:${port}`, unit: 1 }, tags: configTags },
      ],
    });
    assertValues(await readOnce(config, quietLogger, 8000), "gw");
  });
});
