import { strict as assert } from "node:assert";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { TelemetryRecord } from "../../collector/record.js";
import { parseDuration } from "../../common/index.js";
import { DEFAULT_DEDUPE_WINDOW_MS, TELEMETRY_STREAM } from "../../master/index.js";
import type { Chunk, NodeLink } from "../../protocol/index.js";
import { type NatsServer, startNats, withNats } from "../helpers/nats-server.js";
import {
  RECORD_SCHEMA_FINGERPRINT,
  RECORD_SCHEMA_TEXT,
  recordChunk,
} from "../helpers/record-chunks.js";
import { builtCli, runOutpostAsync } from "../helpers/run-outpost.js";
import { eventually } from "../helpers/until.js";
import { MasterHarness } from "../master/master-harness.js";

// A describe of its own: root-level hooks would run for the whole suite, each file's
// server (and PGPASSFILE) set before any test of any file.
describe("outpost telemetry follow (one nats-server for this file)", () => {
  const T0 = Date.UTC(2026, 0, 31, 12);

  let nats: NatsServer;
  let h: MasterHarness;
  before(async function () {
    this.timeout(60_000);
    nats = await startNats();
    h = await new MasterHarness().start({
      nats: { url: nats.url, publisher: { idleMs: 100 } },
    });
    // The master makes the stream when it starts publishing.
    await eventually("the telemetry stream", 20_000, () =>
      withNats(nats, async (nc) => {
        const jsm = await jetstreamManager(nc);
        return jsm.streams.info(TELEMETRY_STREAM).then(
          () => true,
          () => undefined,
        );
      }),
    );
  });
  after(async () => {
    await h?.close();
    await nats?.close();
  });

  /** A node's chunk: tags t0..t2 of turbine-1, values `id*10 + i`, one second apart from T0. */
  function chunk(id: number): Chunk {
    const records: TelemetryRecord[] = [0, 1, 2].map((i) => ({
      device: "turbine-1",
      tag: `t${i}`,
      ts: T0 + id * 1000 + i,
      value: id * 10 + i,
      quality: "good",
      unit: "kW",
    }));
    const { node: _n, receivedAt: _r, ...wire } = recordChunk("-", id, records);
    return wire;
  }

  const links = new Map<string, NodeLink>();
  async function send(node: string, id: number): Promise<void> {
    let link = links.get(node);
    if (!link) {
      link = h.link(await h.addNode(node));
      await link.sendSchema({ fingerprint: RECORD_SCHEMA_FINGERPRINT, schema: RECORD_SCHEMA_TEXT });
      links.set(node, link);
    }
    await link.send(chunk(id));
  }

  /** `outpost telemetry follow` as a real process; `lines()` is what it printed so far. */
  function follow(...args: string[]): { child: ChildProcess; lines(): string[]; stderr(): string } {
    const child = spawn(process.execPath, [builtCli(), "telemetry", "follow", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, OUTPOST_NATS: undefined, OUTPOST_NATS_TOKEN: undefined },
    });
    let out = "";
    let err = "";
    child.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
    });
    child.stderr?.on("data", (b: Buffer) => {
      err += b.toString();
    });
    return {
      child,
      lines: () => out.split("\n").filter((l) => l !== ""),
      stderr: () => err,
    };
  }

  /** Waits until the follower's consumer is on the stream (it follows from then on). */
  async function consumers(n: number): Promise<void> {
    await eventually(`${n} consumers on the stream`, 20_000, () =>
      withNats(nats, async (nc) => {
        const jsm = await jetstreamManager(nc);
        const info = await jsm.streams.info(TELEMETRY_STREAM);
        return info.state.consumer_count === n ? true : undefined;
      }),
    );
  }

  async function terminate(child: ChildProcess): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    return exited;
  }

  describe("outpost telemetry follow", function () {
    this.timeout(120_000);
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "outpost-follow-"));
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it("prints a live master's readings of one node, a line each, and exits cleanly on SIGTERM", async () => {
      const f = follow("--nats", nats.url, "--node", "gw-1");
      try {
        await consumers(1);
        await send("gw-2", 1);
        await send("gw-1", 1);
        await send("gw-1", 2);
        await eventually("six lines", 20_000, () => (f.lines().length >= 6 ? true : undefined));
        await new Promise((r) => setTimeout(r, 500));
        const lines = f.lines();
        assert.equal(lines.length, 6, lines.join("\n"));
        assert.match(
          lines[0] ?? "",
          /^2026-01-31T12:00:01\.000Z {2}gw-1 +turbine-1 +t0 +10 {2}kW +good$/,
        );
        assert.deepEqual(
          lines.map((l) => l.split(/\s+/)[4]),
          ["10", "11", "12", "20", "21", "22"],
        );
      } finally {
        assert.equal(await terminate(f.child), 0, f.stderr());
      }
      await consumers(0);
    });

    it("with --durable resumes after the last reading printed; --tag and --ndjson", async () => {
      const args = ["--nats", nats.url, "--durable", "ops-1", "--tag", "t1", "--ndjson"];
      const first = follow(...args);
      try {
        await consumers(1);
        await send("gw-3", 1);
        await eventually("a line", 20_000, () => (first.lines().length >= 1 ? true : undefined));
      } finally {
        assert.equal(await terminate(first.child), 0, first.stderr());
      }
      const [line] = first.lines();
      assert.deepEqual(JSON.parse(line ?? ""), {
        ts: T0 + 1001,
        node: "gw-3",
        stream: "telemetry",
        device: "turbine-1",
        tag: "t1",
        type: "double",
        value: 11,
        unit: "kW",
        quality: "good",
        seq: 1002,
      });
      // Published while no one follows: the durable consumer keeps them.
      await send("gw-3", 2);
      await send("gw-3", 3);
      const again = follow(...args);
      try {
        await eventually("two lines", 20_000, () => (again.lines().length >= 2 ? true : undefined));
        await new Promise((r) => setTimeout(r, 500));
      } finally {
        assert.equal(await terminate(again.child), 0, again.stderr());
      }
      assert.deepEqual(
        again.lines().map((l) => JSON.parse(l).value),
        [21, 31],
      );
    });

    it("skips a message that is not a telemetry message, saying so, and goes on", async () => {
      const f = follow("--nats", nats.url, "--durable", "ops-2");
      try {
        await eventually("the durable consumer", 20_000, () =>
          withNats(nats, async (nc) =>
            (await jetstreamManager(nc)).consumers.info(TELEMETRY_STREAM, "ops-2").then(
              () => true,
              () => undefined,
            ),
          ),
        );
        await withNats(nats, async (nc) => {
          await jetstream(nc).publish("outpost.telemetry.gw-9.x", "{not json");
        });
        await send("gw-4", 1);
        await eventually("three lines", 20_000, () => (f.lines().length >= 3 ? true : undefined));
      } finally {
        assert.equal(await terminate(f.child), 0, f.stderr());
      }
      assert.deepEqual(
        f.lines().map((l) => l.split(/\s+/)[1]),
        ["gw-4", "gw-4", "gw-4"],
      );
      const warning = f
        .stderr()
        .split("\n")
        .find((l) => l.includes("follow.message_unreadable"));
      assert.match(warning ?? "", /"subject":"outpost\.telemetry\.gw-9\.x".*"reason":"not JSON/);
    });

    it("refuses a bad --nats or --durable with a clear line, and names NATS when it cannot be reached", async () => {
      const cases: [string[], number, RegExp][] = [
        [["--nats", "http://127.0.0.1:4222"], 2, /^outpost: --nats: expected nats:\/\/HOST:PORT/],
        [
          ["--nats", "nats://me:pw@127.0.0.1:4222"],
          2,
          /^outpost: --nats: the URL must not hold credentials/,
        ],
        [[], 2, /^outpost: --nats: required \(or set OUTPOST_NATS\)/],
        [["--nats", nats.url, "--durable", "a.b"], 2, /--durable.*a JetStream consumer name/],
        [
          ["--nats", "nats://127.0.0.1:1"],
          1,
          /^outpost: cannot use NATS at 127\.0\.0\.1:1 \(.*\) \[E_MASTER_NATS_UNAVAILABLE\]/,
        ],
      ];
      for (const [args, status, stderr] of cases) {
        const r = await runOutpostAsync(["telemetry", "follow", ...args], {
          env: { OUTPOST_NATS: undefined },
        });
        assert.equal(r.status, status, `${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, stderr);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      }
    });

    it("master start --help shows the master's own duplicate window", async () => {
      const r = await runOutpostAsync(["master", "start", "--help"]);
      const shown = /--nats-dedupe-window .*?\(default: "([^"]+)"\)/.exec(
        r.stdout.replace(/\s+/g, " "),
      );
      assert.equal(parseDuration(shown?.[1] ?? ""), DEFAULT_DEDUPE_WINDOW_MS, r.stdout);
    });

    it("master start refuses a bad --nats or --nats-dedupe-window before it starts", async () => {
      const cases: [string[], RegExp][] = [
        [["--nats", "nats://a b:4222"], /^outpost: --nats: expected nats:\/\/HOST:PORT/],
        [
          ["--nats", nats.url, "--nats-dedupe-window", "10s"],
          /^outpost: --nats-dedupe-window: must be at least 2m/,
        ],
        [
          ["--nats", nats.url, "--nats-dedupe-window", "soon"],
          /^outpost: --nats-dedupe-window: duration 'soon'/,
        ],
      ];
      for (const [args, stderr] of cases) {
        const r = await runOutpostAsync(["master", "start", "--data", dir, ...args]);
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr, stderr);
      }
    });
  });
});
