import { strict as assert } from "node:assert";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readOnce } from "../../collector/index.js";
import { collectorConfig, quietLogger } from "../collector/fixtures.js";
import { repoRoot, runOutpost } from "../helpers/run-outpost.js";

interface SimState {
  seed: number;
  modbus: string;
  opcua: string;
}

/** `outpost sim turbine --json` as a child process; resolves with its JSON document. */
function startSim(args: string[]): { child: ChildProcess; state: Promise<SimState> } {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(repoRoot, "cli", "main.ts"), "sim", "turbine", "--json", ...args],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const state = new Promise<SimState>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      try {
        resolve(JSON.parse(out) as SimState);
      } catch {
        // Not the whole document yet.
      }
    });
    child.once("exit", (code) => reject(new Error(`sim exited ${code}: ${err}`)));
  });
  return { child, state };
}

describe("outpost sim turbine", function () {
  this.timeout(60_000);
  let dir: string;
  let sim: ChildProcess | undefined;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-cli-sim-"));
  });
  after(async () => {
    if (sim && sim.exitCode === null) {
      sim.kill("SIGKILL");
      await new Promise((r) => sim?.once("exit", r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the same turbine over Modbus TCP and OPC-UA, read alike by mbpoll and the collector, and stops on SIGTERM", async () => {
    const started = startSim([
      ...["--modbus", "127.0.0.1:0", "--opcua", "0", "--seed", "7"],
      ...["--data-dir", join(dir, "sim")],
    ]);
    sim = started.child;
    const state = await started.state;
    assert.equal(state.seed, 7);
    const [host, port] = state.modbus.split(":");
    assert.equal(host, "127.0.0.1");
    assert.match(state.opcua, /^opc\.tcp:\/\/127\.0\.0\.1:\d+$/);

    // mbpoll reads floats word-swapped (CDAB) by default, as the simulator serves rotor rpm.
    const mbpoll = spawnSync(
      "mbpoll",
      ["-m", "tcp", "-p", String(port), "-t", "4:float", "-r", "3", "-c", "1", "-1", "127.0.0.1"],
      { encoding: "utf8", timeout: 10_000 },
    );
    assert.equal(mbpoll.status, 0, mbpoll.stderr);
    const rpm = Number(/\[3\]:\s+(-?[\d.]+)/.exec(mbpoll.stdout)?.[1]);
    assert.ok(rpm >= 0 && rpm <= 20, `mbpoll read rotor rpm ${rpm}`);

    const config = collectorConfig({
      dataDir: join(dir, "collector"),
      devices: [
        {
          name: "mb",
          modbus: { tcp: state.modbus },
          tags: [
            { name: "wind", register: "holding", address: 0, type: "float32" },
            { name: "rpm", register: "holding", address: 2, type: "float32", order: "CDAB" },
            { name: "energy", register: "holding", address: 10, type: "uint64" },
          ],
        },
        {
          name: "ua",
          opcua: { endpoint: state.opcua },
          tags: [
            { name: "wind", node: "ns=1;s=WindSpeed" },
            { name: "energy", node: "ns=1;s=EnergyWh" },
          ],
        },
      ],
    });
    const records = await readOnce(config, quietLogger, 15_000);
    const value = (device: string, tag: string) => {
      const r = records.find((x) => x.device === device && x.tag === tag);
      assert.equal(r?.quality, "good", `${device}.${tag}: ${r?.quality}`);
      return r?.value;
    };
    const wind = value("mb", "wind") as number;
    assert.ok(wind >= 0 && wind <= 32, `wind ${wind}`);
    // Read a few steps apart over two protocols: the same slowly moving signal.
    assert.ok(Math.abs(wind - (value("ua", "wind") as number)) < 3);
    assert.ok((value("mb", "rpm") as number) <= 20);
    assert.equal(typeof value("mb", "energy"), "bigint");
    assert.equal(typeof value("ua", "energy"), "bigint");

    const exited = new Promise<number | null>((r) => sim?.once("exit", (code) => r(code)));
    sim.kill("SIGTERM");
    assert.equal(await exited, 0);
  });

  it("needs at least one of --modbus and --opcua (exit 2)", () => {
    const r = runOutpost(["sim", "turbine"]);
    assert.equal(r.status, 2);
    assert.equal(
      r.stderr,
      "outpost: sim turbine: give --modbus HOST:PORT, --opcua PORT, or both\n",
    );
  });

  it("refuses a malformed listen address and seed (exit 2)", () => {
    const modbus = runOutpost(["sim", "turbine", "--modbus", "5020"]);
    assert.equal(modbus.status, 2);
    assert.equal(modbus.stderr, "outpost: --modbus '5020': expected HOST:PORT\n");
    const seed = runOutpost(["sim", "turbine", "--opcua", "0", "--seed", "-1"]);
    assert.equal(seed.status, 2);
    assert.equal(seed.stderr, "outpost: --seed '-1': must be an integer from 0 to 4294967295\n");
  });
});
