import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Collector, type RecordOutput, type TelemetryRecord } from "../../../collector/index.js";
import { collectorConfig, sleep, waitFor } from "../fixtures.js";
import { startOpcuaPeer } from "../peers/opcua-peer.js";
import type { Peer } from "../peers/peer-process.js";

const TAGS = ["Power", "WindSpeed", "Running"];

/** Keeps every record with the time it reached the output. */
class TimedOutput implements RecordOutput {
  readonly records: { at: number; r: TelemetryRecord }[] = [];
  async write(records: TelemetryRecord[]): Promise<void> {
    const at = Date.now();
    for (const r of records) this.records.push({ at, r });
  }
  after(t: number, tag?: string): { at: number; r: TelemetryRecord }[] {
    return this.records.filter((x) => x.at >= t && (tag === undefined || x.r.tag === tag));
  }
  firstGood(after: number): number | undefined {
    return this.after(after).find((x) => x.r.quality === "good")?.at;
  }
}

/** The collector's structured events, to see which way it recovered. */
function eventLogger(): { logger: pino.Logger; events: string[] } {
  const events: string[] = [];
  const logger = pino(
    { level: "info" },
    { write: (line: string) => void events.push(JSON.parse(line).msg as string) },
  );
  return { logger, events };
}

describe("OPC-UA session: reconnect, hang detection and outage marking (node-opcua server in a child process)", function () {
  this.timeout(120_000);
  let dir: string;
  let server: Peer;
  let port: number;
  let output: TimedOutput;
  let collector: Collector;
  let events: string[];

  const startServer = async () => {
    server = await startOpcuaPeer({ port, dataDir: join(dir, "server") });
    port = server.hello.port as number;
    return Date.now();
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "outpost-opcua-reconnect-"));
    port = 0;
    await startServer();
    output = new TimedOutput();
    const log = eventLogger();
    events = log.events;
    collector = new Collector(
      collectorConfig({
        dataDir: join(dir, "client"),
        devices: [
          {
            name: "nacelle",
            interval: "100ms",
            opcua: { endpoint: `opc.tcp://127.0.0.1:${port}`, hangTimeout: "5s" },
            tags: TAGS.map((t) => ({ name: t, node: `ns=1;s=${t}` })),
          },
        ],
      }),
      { output, logger: log.logger },
    );
    await collector.start();
    await waitFor(() => output.firstGood(0) !== undefined, 30_000, "a good value");
  });

  afterEach(async () => {
    await collector?.stop();
    if (server?.child.signalCode === null) server.child.kill("SIGCONT");
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Each tag: one `comm_error` at the outage's start, then one `resumed` bounding it
   * before the next value; the outage ends when the server answered again (`back`, at
   * the earliest), before that value arrived.
   */
  function assertMarked(down: number, back: number, from: [number, number]): void {
    for (const tag of TAGS) {
      const since = output.after(down, tag);
      const errors = since.filter((x) => x.r.quality === "comm_error");
      assert.equal(errors.length, 1, `${tag}: one comm_error per outage`);
      assert.equal(errors[0]?.r.value, null);
      // Values that were on their way when the server went down come before the mark.
      const marked = since.slice(since.indexOf(errors[0] as (typeof since)[number]));
      const resumedAt = marked.findIndex((x) => x.r.quality === "resumed");
      const resumed = marked[resumedAt]?.r;
      assert.ok(resumed, `${tag}: a resumed record`);
      assert.equal(resumed.value, null);
      const outageFrom = resumed.outageFrom as number;
      assert.ok(
        outageFrom >= from[0] && outageFrom <= from[1],
        `${tag}: outage from ${outageFrom - down} ms after the server went down`,
      );
      assert.equal(errors[0]?.r.ts, outageFrom, `${tag}: comm_error at the outage's start`);
      const firstGood = marked.findIndex((x) => x.r.quality === "good");
      assert.ok(firstGood > resumedAt, `${tag}: resumed before the first value after the outage`);
      const outageTo = resumed.outageTo as number;
      assert.ok(
        outageTo >= back && outageTo <= (marked[firstGood]?.at as number),
        `${tag}: outage to ${outageTo - back} ms after the server's return`,
      );
    }
  }

  it("takes a quiet server for a live one: keep-alives come well inside the hang bound", async () => {
    const quiet = new TimedOutput();
    const log = eventLogger();
    const other = new Collector(
      collectorConfig({
        dataDir: join(dir, "client"),
        devices: [
          {
            name: "quiet",
            interval: "100ms",
            // ServiceLevel: a constant, so only keep-alives answer the publish requests.
            opcua: { endpoint: `opc.tcp://127.0.0.1:${port}`, hangTimeout: "1s" },
            tags: [{ name: "level", node: "ns=0;i=2267" }],
          },
        ],
      }),
      { output: quiet, logger: log.logger },
    );
    await other.start();
    try {
      await waitFor(() => quiet.records.length > 0, 20_000, "the first value");
      await sleep(4000);
      assert.equal(quiet.records.length, 1, "one value, nothing more");
      assert.equal(other.stats()[0]?.failures, 0);
      assert.ok(!log.events.includes("opcua.hang_bound_raised"), "the bound stayed at 1 s");
    } finally {
      await other.stop();
    }
  });

  it("kill -9 and 10 s down: data flows within 2 s of the restart, each tag marked comm_error then resumed", async () => {
    const down = Date.now();
    server.child.kill("SIGKILL");
    await server.stop();
    await sleep(10_000);
    assert.equal(output.firstGood(down + 500), undefined, "no data while the server is down");
    const restarted = Date.now();
    const back = await startServer();
    await waitFor(() => output.firstGood(back) !== undefined, 10_000, "data after the restart");
    const recovery = (output.firstGood(back) as number) - back;
    assert.ok(recovery < 2000, `data ${recovery} ms after the server's return`);
    assertMarked(down, restarted, [down, down + 1000]);
    assert.ok(events.includes("opcua.session_gone"), "the restarted server had no session to keep");
  });

  it("SIGSTOP 15 s: the hang is detected within hangTimeout, data flows within 2 s of SIGCONT on the kept session", async () => {
    server.child.kill("SIGSTOP");
    const down = Date.now();
    await waitFor(
      () => output.after(down).some((x) => x.r.quality === "comm_error"),
      10_000,
      "the hang noticed",
    );
    const noticed =
      (output.after(down).find((x) => x.r.quality === "comm_error")?.at as number) - down;
    assert.ok(noticed <= 5000 + 200, `hang noticed after ${noticed} ms (bound 5000)`);
    await sleep(down + 15_000 - Date.now());
    server.child.kill("SIGCONT");
    const back = Date.now();
    await waitFor(() => output.firstGood(back) !== undefined, 10_000, "data after SIGCONT");
    const recovery = (output.firstGood(back) as number) - back;
    assert.ok(recovery < 2000, `data ${recovery} ms after SIGCONT`);
    // The outage starts when the server was last heard, before the bound ran out.
    assertMarked(down, back, [down - 1000, down]);
    assert.ok(events.includes("opcua.session_resumed"), "the server's session was taken over");
  });
});
