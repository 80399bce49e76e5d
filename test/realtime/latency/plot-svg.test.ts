import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { latencyHistogramSvg, type PlotSeries } from "../../../realtime/index.js";

const body: [number, number][] = [
  [12, 3],
  [13, 40],
  [14, 900],
  [15, 2000],
  [16, 700],
  [18, 50],
  [25, 4],
  [40, 1],
];

/** Renders with librsvg, as an image viewer would; returns the PNG's bytes. */
function render(svg: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "outpost-svg-"));
  try {
    writeFileSync(join(dir, "plot.svg"), svg);
    const r = spawnSync("rsvg-convert", [join(dir, "plot.svg"), "-o", join(dir, "plot.png")], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    return readFileSync(join(dir, "plot.png"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("realtime latency-svg", () => {
  it("draws a document librsvg renders, with a log count axis in decades and one step line per series", () => {
    const series: PlotSeries[] = [
      { label: "outpost rt latency", histogram: body },
      { label: "cyclictest", histogram: body.map(([us, c]) => [us + 1, c]) },
    ];
    const svg = latencyHistogramSvg(series, { title: "Wake-up latency", subtitle: "CPU 1" });
    const png = render(svg);
    assert.equal(png.subarray(1, 4).toString("latin1"), "PNG");
    for (const decade of [">1<", ">10<", ">100<", ">1k<", ">10k<"])
      assert.ok(svg.includes(decade), decade);
    assert.ok(
      !svg.includes(">100k<"),
      "the axis stops at the first decade above the highest count",
    );
    assert.equal((svg.match(/stroke-width="1.5"/g) ?? []).length, 2);
    assert.ok(svg.includes("latency (µs)"));
  });

  it("escapes labels so any text stays well-formed XML", () => {
    const svg = latencyHistogramSvg([{ label: 'a <b> & "c"', histogram: body }], { title: "x<y" });
    assert.ok(svg.includes("a &lt;b&gt; &amp; &quot;c&quot;"));
    assert.ok(svg.includes("x&lt;y"));
    render(svg);
  });

  it("draws a tuned box's whole tail, but counts a noisy box's far outliers in the legend", () => {
    const tight = latencyHistogramSvg([{ label: "rt", histogram: [...body, [90, 1]] }], {
      title: "t",
    });
    assert.ok(!tight.includes("off the plot"));
    const noisy = latencyHistogramSvg(
      [{ label: "vm", histogram: [...body, [5000, 2], [8000, 1]], overflow: 4 }],
      { title: "t" },
    );
    assert.match(noisy, /vm \(\+7 beyond \d+ µs, off the plot\)/);
  });

  it("honours an explicit axis end", () => {
    const svg = latencyHistogramSvg([{ label: "s", histogram: body }], { title: "t", maxUs: 14 });
    assert.match(svg, /s \(\+\d+ beyond 1[5-9] µs, off the plot\)/);
  });
});
