import { strict as assert } from "node:assert";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { removeCgroupTree, uninstallAgent } from "../../agent/index.js";
import { MasterClient } from "../../master/index.js";
import { Cgroup, type WatchedProcess } from "../../native/index.js";
import { demoStatus, startDemoProcess } from "../helpers/e2e-stack.js";
import { repoRoot } from "../helpers/run-outpost.js";
import { eventually } from "../helpers/until.js";

/** Debian's chromium (.ci/debian-packages); playwright-core ships no browser. */
const CHROMIUM = "/usr/bin/chromium";
/** Headless as root, offline: nothing reaches past loopback. */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** Kept after the run (gitignored) for a person to look at. */
const ARTIFACTS = join(repoRoot, "test-artifacts");

describe("e2e: `outpost demo`, the README's main job", function () {
  this.timeout(180_000);
  let tmp: string;
  let group: Cgroup;
  let demo: WatchedProcess | undefined;
  /** The running demo's status page, left running by the first test for the second. */
  let running: { url: string; token: string };

  /** Starts the demo from the built CLI, as the README's command does. */
  async function startDemo(...extra: string[]): Promise<{ url: string; token: string }> {
    const started = await startDemoProcess({
      root: repoRoot,
      state: join(tmp, "state"),
      cgroup: group,
      logDir: tmp,
      extra,
    });
    demo = started.process;
    return started;
  }

  const status = demoStatus;
  /** How many readings of `tag` the master's store holds from the last ten minutes. */
  async function readings(at: { url: string; token: string }, tag: string): Promise<number> {
    const answer = await new MasterClient(at.url, at.token).readings({ tags: [tag], from: "10m" });
    return answer.series.reduce((n, x) => n + x.points.length, 0);
  }

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "outpost-e2e-demo-"));
    chmodSync(tmp, 0o711);
    group = Cgroup.own().createChild(`outpost-test-e2e-demo-${process.pid}`);
  });

  after(async () => {
    demo?.kill("SIGKILL");
    await demo?.exited;
    if (group) await removeCgroupTree(group);
    if (tmp) await uninstallAgent(join(tmp, "state", "agent"));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("shows the node online, the collector instance ready and turbine data arriving at the master", async () => {
    const at = await startDemo();
    running = at;
    const page = await fetch(at.url);
    assert.match(await page.text(), /<title>Outpost master<\/title>/);
    const s = await eventually(
      "collector ready and readings charted",
      90_000,
      async () => {
        const s = await status(at);
        const collector = s.instances.find((i) => i.name === "collector");
        const rpm = await readings(at, "rotor_rpm");
        return collector?.state === "ready" && rpm >= 3 ? s : undefined;
      },
      500,
    );
    assert.equal(s.nodes[0]?.name, "demo");
    assert.equal(s.nodes[0]?.online, true);
    const collector = s.instances.find((i) => i.name === "collector");
    assert.equal(collector?.node, "demo");
    assert.ok((s.telemetry.nodes.demo?.records ?? 0) > 0);
  });

  it("renders the status page live in a headless chromium, saving a screenshot", async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${running.url}#token=${running.token}`);
      await page.waitForSelector("#conn.ok", { timeout: 15_000 });
      const node = page.locator('#nodes tr[data-node="demo"]');
      await node.locator("td.ok", { hasText: "online" }).waitFor({ timeout: 15_000 });
      await page
        .locator('#instances tr[data-instance="collector"] td.ok', { hasText: "ready" })
        .waitFor({ timeout: 15_000 });
      await node
        .locator("td.backlog[data-records]")
        .waitFor({ timeout: 15_000, state: "attached" });
      const points = async () => Number(await page.locator("#chart").getAttribute("data-points"));
      const before = await points();
      await eventually(
        "the chart gained points without a reload",
        20_000,
        async () => ((await points()) > before ? true : undefined),
        250,
      );
      // History and tail come from /v1/readings: the node's first three series, drawn
      // by uPlot on a time axis and one axis per unit (gaps: readings-chart.test.ts).
      const series = Number(await page.locator("#chart").getAttribute("data-series"));
      assert.ok(series >= 1 && series <= 3, `${series} series drawn`);
      const axes = Number(await page.locator("#chart").getAttribute("data-axes"));
      assert.ok(axes >= 2, "a time axis and at least one unit's");
      assert.equal(await page.locator("#chart .u-axis").count(), axes);
      assert.equal(await page.locator("#chart .u-legend .u-series").count(), series + 1);
      assert.equal(await page.locator("#chart canvas").count(), 1, "the chart draws its lines");
      mkdirSync(ARTIFACTS, { recursive: true });
      const shot = join(ARTIFACTS, "status-page.png");
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok(statSync(shot).size > 10_000, `${shot} holds a real screenshot`);
    } finally {
      await browser.close();
    }
  });

  it("stops everything on SIGINT, exiting 0, and leaves no group behind", async () => {
    const s = await status(running);
    assert.ok((s.telemetry.nodes.demo?.records ?? 0) > 0);
    const root = group.dirs.v1.cpu ?? group.path;
    const procFiles = () =>
      readdirSync(root, { recursive: true, encoding: "utf8" })
        .filter((p) => p.endsWith("cgroup.procs"))
        .map((p) => join(root, p));
    const collector = procFiles().find((p) => p.includes("proc-collector"));
    assert.ok(collector, "the collector runs in its own group");
    assert.notEqual(readFileSync(collector, "utf8").trim(), "");
    demo?.kill("SIGINT");
    assert.equal((await demo?.exited)?.code, 0);
    assert.deepEqual(procFiles(), [join(root, "cgroup.procs")], "no group of the demo is left");
    assert.equal(
      readFileSync(join(root, "cgroup.procs"), "utf8").trim(),
      "",
      "nothing left running",
    );
    await assert.rejects(fetch(running.url), "the status page is gone");
  });

  it("reuses the state on a second run: same admin token, node and instance", async () => {
    const first = running;
    const at = await startDemo();
    assert.equal(at.token, first.token, "the master's data directory was reused");
    const s = await eventually(
      "the kept collector ready again with new records",
      90_000,
      async () => {
        const s = await status(at);
        const collector = s.instances.find((i) => i.name === "collector");
        return collector?.state === "ready" && (s.telemetry.nodes.demo?.records ?? 0) > 0
          ? s
          : undefined;
      },
      500,
    );
    assert.deepEqual(
      s.nodes.map((n) => n.name),
      ["demo"],
    );
    assert.deepEqual(
      s.instances.map((i) => i.name),
      ["collector"],
    );
    demo?.kill("SIGINT");
    assert.equal((await demo?.exited)?.code, 0);
  });

  it("with --flaky, shows on the page the backlog the buffer built up while the link was down", async () => {
    const at = await startDemo("--flaky", "6/8");
    const grown = await eventually(
      "a report after an outage, with its backlog peak",
      60_000,
      async () => {
        const b = (await status(at)).telemetry.backlog.demo;
        // 8 s without the master at 11 tags a second: well over 40 records waited.
        return b && b.peakRecords >= 40 ? b : undefined;
      },
      500,
    );
    const drained = await eventually(
      "the backlog drained, its peak still shown",
      30_000,
      async () => {
        const s = await status(at);
        const b = s.telemetry.backlog.demo;
        return b && b.records < grown.peakRecords / 2 && b.peakRecords >= 40 ? s : undefined;
      },
      500,
    );
    const records = drained.telemetry.nodes.demo?.records ?? 0;
    assert.ok(records > grown.peakRecords, "what waited reached the master");
    demo?.kill("SIGINT");
    assert.equal((await demo?.exited)?.code, 0);
  });
});
