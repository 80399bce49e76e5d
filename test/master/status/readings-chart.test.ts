import { strict as assert } from "node:assert";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { openDataDir } from "../../../master/index.js";
import { repoRoot } from "../../helpers/run-outpost.js";
import { MasterHarness } from "../master-harness.js";
import { seedReadings } from "../readings/readings-fixture.js";

/** Debian's chromium (.ci/debian-packages); playwright-core ships no browser. */
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
];

/**
 * The status page's readings chart in a real headless chromium against a real master:
 * history from the store, one axis per unit, a break in the lines at each sequence gap,
 * the reported loss marked, and the same chart after the master restarts.
 */
describe("status page: the readings chart in chromium", function () {
  this.timeout(60_000);
  const h = new MasterHarness();
  let browser: Browser;
  let page: Page;
  /**
   * Five minutes before the tests start (not when mocha loads the file, which may be long
   * before in a full run): inside the page's default range (the last 10 minutes).
   */
  let t0: number;

  before(async () => {
    t0 = Date.now() - 300_000;
    await h.start();
    await h.addNode("n1");
    await seedReadings(h.master.store, t0);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  after(async () => {
    await browser?.close();
    await h.close();
  });

  const open = () => page.goto(`${h.master.url}/#token=${openDataDir(h.dir).adminToken}`);
  const chart = async (attribute: string) =>
    Number(await page.locator("#chart").getAttribute(`data-${attribute}`));
  const drawn = (series: number) =>
    page.locator(`#chart[data-series="${series}"]`).waitFor({ state: "attached", timeout: 15_000 });

  it("draws the node's first three series from the store: a time axis and one axis per unit", async () => {
    await open();
    await drawn(3);
    assert.deepEqual(await page.locator("#tags label").allTextContents(), [
      " turbine-1/counter",
      " turbine-1/energy",
      " turbine-1/rotor_rpm",
      " turbine-1/sample",
      " turbine-2/rotor_rpm",
    ]);
    assert.equal(await page.locator("#pick-node").inputValue(), "n1");
    // counter (no unit), energy (Wh), rotor_rpm (rpm): the time axis and three.
    assert.equal(await chart("axes"), 4);
    assert.equal(await page.locator("#chart .u-axis").count(), 4);
    assert.equal(await page.locator("#chart canvas").count(), 1);
    // uPlot's legend: the time and each series, values shown under the cursor.
    assert.equal(await page.locator("#chart .u-legend .u-series").count(), 4);
  });

  it("breaks the lines at both sequence gaps and marks the reported loss", async () => {
    assert.equal(await chart("gaps"), 2);
    assert.equal(await chart("losses"), 1);
    // 40 s of the 60 arrived; rotor_rpm's bad-quality readings are not drawn.
    assert.equal(await chart("points"), 40 + 40 + 36);
    // The plotting area spans the last 10 minutes; the readings are from 5 minutes ago.
    const box = await page.locator("#chart .u-over").boundingBox();
    assert.ok(box);
    await page.mouse.move(box.x + box.width * (1 - 285 / 600), box.y + box.height / 2);
    const values = await page.locator("#chart .u-legend .u-value").allTextContents();
    assert.ok(
      values.some((v) => /\d/.test(v)),
      `hover shows values: ${values.join(" | ")}`,
    );
    mkdirSync(join(repoRoot, "test-artifacts"), { recursive: true });
    await page.screenshot({
      path: join(repoRoot, "test-artifacts", "readings-chart.png"),
      fullPage: true,
    });
  });

  it("adds a series picked in the picker, and reads longer ranges as averages", async () => {
    await page.locator('#tags input[value="n1/turbine-1/sample"]').check();
    await drawn(4);
    assert.equal(await chart("axes"), 4, "sample has no unit: it shares counter's axis");
    await page.locator("#pick-range").selectOption({ label: "6 h" });
    await page
      .locator("#chart-note", { hasText: "averages over 18 s" })
      .waitFor({ timeout: 15_000 });
    assert.equal(await chart("series"), 4);
  });

  it("draws the same history after the master restarts", async () => {
    await page.locator("#pick-range").selectOption({ label: "10 min" });
    await page.locator("#chart-note", { hasText: "every reading" }).waitFor({ timeout: 15_000 });
    const before = await chart("points");
    await h.restart();
    await open();
    await drawn(3);
    assert.equal(await chart("points"), 40 + 40 + 36);
    assert.ok(before > 40 + 40 + 36, "four series before, three after a reload");
  });
});
