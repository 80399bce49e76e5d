import { type HistogramBuckets, histogramPercentile } from "./report.js";

/** One histogram to draw; `label` goes in the legend. */
export interface PlotSeries {
  label: string;
  histogram: HistogramBuckets;
  /** Samples beyond the histogram's range, named in the legend when non-zero. */
  overflow?: number;
}

export interface PlotOptions {
  title: string;
  /** Second line under the title (settings of the run). */
  subtitle?: string;
  width?: number;
  height?: number;
  /**
   * Right end of the latency axis in µs. Default: every sample, unless a sparse tail
   * (beyond 8× the 99th percentile, as on a noisy non-RT box) would squeeze the body of
   * the distribution into a few pixels; then the axis stops at 5× that percentile and the
   * legend counts the samples beyond it.
   */
  maxUs?: number;
}

const PALETTE = ["#1864ab", "#d9480f", "#2b8a3e", "#862e9c", "#c92a2a", "#495057"];
const MARGIN = { left: 72, right: 24, top: 64, bottom: 56 };
/** Log-scale floor just under a count of 1, so single samples stand off the axis. */
const Y_FLOOR = -0.2;

function escapeXml(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (c) => `&${{ "&": "amp", "<": "lt", ">": "gt", '"': "quot" }[c]};`,
  );
}

/** The smallest 1·10^k, 2·10^k or 5·10^k step giving at most `maxTicks` ticks over `span`. */
function niceStep(span: number, maxTicks: number): number {
  const raw = span / maxTicks;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

function countLabel(decade: number): string {
  const n = 10 ** decade;
  if (n >= 1e6) return `${n / 1e6}M`;
  if (n >= 1e3) return `${n / 1e3}k`;
  return String(n);
}

const r = (n: number) => Number(n.toFixed(1));

/** The axis end that keeps the body of every series readable (see `PlotOptions.maxUs`). */
function autoRange(series: readonly PlotSeries[]): number {
  let p99 = 0;
  let last = 0;
  for (const s of series) {
    const total = s.histogram.reduce((n, [, count]) => n + count, 0) + (s.overflow ?? 0);
    last = Math.max(last, s.histogram.at(-1)?.[0] ?? 0);
    p99 = Math.max(p99, histogramPercentile(s.histogram, total, 0.99) ?? last);
  }
  // On a tuned RT box the whole tail fits within a few times the 99th percentile and is
  // drawn; past that, the tail is a handful of far samples the legend counts instead.
  return last <= 8 * p99 ? last : Math.max(50, 5 * p99);
}

/**
 * Pure: an SVG document plotting latency histograms the way cyclictest's plots do:
 * latency in µs on a linear x axis, samples per 1 µs bucket on a log y axis, one step
 * line per series. Empty buckets sit on the floor of the plot.
 */
export function latencyHistogramSvg(series: readonly PlotSeries[], options: PlotOptions): string {
  const width = options.width ?? 900;
  const height = options.height ?? 480;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;

  const lastBucket = Math.min(
    options.maxUs ?? autoRange(series),
    Math.max(0, ...series.flatMap((s) => s.histogram.map(([us]) => us))),
  );
  const maxCount = Math.max(1, ...series.flatMap((s) => s.histogram.map(([, c]) => c)));
  const xStep = niceStep(lastBucket + 1, 10);
  const xMax = Math.max(xStep, Math.ceil((lastBucket + 1) / xStep) * xStep);
  const shown = series.map((s) => s.histogram.filter(([us]) => us < xMax));
  const beyond = series.map(
    (s) =>
      (s.overflow ?? 0) + s.histogram.reduce((n, [us, count]) => n + (us >= xMax ? count : 0), 0),
  );
  const yMax = Math.max(1, Math.ceil(Math.log10(maxCount)));

  const x = (us: number) => MARGIN.left + (us / xMax) * plotW;
  const y = (level: number) => MARGIN.top + plotH - ((level - Y_FLOOR) / (yMax - Y_FLOOR)) * plotH;
  const floor = y(Y_FLOOR);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(options.title)}</text>`,
  );
  if (options.subtitle) {
    out.push(
      `<text x="${width / 2}" y="44" text-anchor="middle" fill="#495057">${escapeXml(options.subtitle)}</text>`,
    );
  }

  // Grid and ticks.
  out.push(`<g stroke="#dee2e6" stroke-width="1">`);
  for (let decade = 0; decade <= yMax; decade++) {
    out.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${r(y(decade))}" y2="${r(y(decade))}"/>`,
    );
  }
  for (let us = 0; us <= xMax; us += xStep) {
    out.push(`<line x1="${r(x(us))}" x2="${r(x(us))}" y1="${MARGIN.top}" y2="${r(floor)}"/>`);
  }
  out.push(`</g>`, `<g fill="#212529">`);
  for (let decade = 0; decade <= yMax; decade++) {
    out.push(
      `<text x="${MARGIN.left - 8}" y="${r(y(decade) + 4)}" text-anchor="end">${countLabel(decade)}</text>`,
    );
  }
  for (let us = 0; us <= xMax; us += xStep) {
    out.push(`<text x="${r(x(us))}" y="${r(floor + 18)}" text-anchor="middle">${us}</text>`);
  }
  out.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${height - 12}" text-anchor="middle">latency (µs)</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">samples per µs (log scale)</text>`,
    `</g>`,
  );
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${r(plotH)}" fill="none" stroke="#868e96"/>`,
  );

  // One step line per series, filled faintly down to the floor.
  shown.forEach((histogram, i) => {
    const color = PALETTE[i % PALETTE.length] as string;
    const counts = new Map(histogram);
    const last = Math.max(-1, ...histogram.map(([us]) => us));
    if (last < 0) return;
    const level = (us: number) => {
      const c = counts.get(us) ?? 0;
      return c > 0 ? y(Math.log10(c)) : floor;
    };
    const d: string[] = [`M${r(x(0))} ${r(floor)}`];
    let current = floor;
    for (let us = 0; us <= last; us++) {
      const next = level(us);
      if (next !== current) {
        d.push(`H${r(x(us))}V${r(next)}`);
        current = next;
      }
    }
    d.push(`H${r(x(last + 1))}V${r(floor)}`);
    const path = d.join("");
    out.push(
      `<path d="${path}Z" fill="${color}" fill-opacity="0.12" stroke="none"/>`,
      `<path d="${path}" fill="none" stroke="${color}" stroke-width="1.5" stroke-linejoin="round"/>`,
    );
  });

  // Legend, top right inside the plot, on a backdrop so curves do not run through it.
  const legendX = MARGIN.left + plotW - 12;
  const labels = series.map((s, i) =>
    beyond[i] ? `${s.label} (+${beyond[i]} beyond ${xMax} µs, off the plot)` : s.label,
  );
  const legendW = Math.max(0, ...labels.map((l) => l.length)) * 6.8 + 44;
  out.push(
    `<rect x="${r(legendX - legendW)}" y="${MARGIN.top + 4}" width="${r(legendW + 6)}" height="${series.length * 18 + 8}" fill="#ffffff" fill-opacity="0.85"/>`,
  );
  labels.forEach((label, i) => {
    const color = PALETTE[i % PALETTE.length] as string;
    const ly = MARGIN.top + 18 + i * 18;
    out.push(
      `<line x1="${legendX - 24}" x2="${legendX}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="3"/>`,
      `<text x="${legendX - 30}" y="${ly}" text-anchor="end">${escapeXml(label)}</text>`,
    );
  });

  out.push(`</svg>`);
  return `${out.join("\n")}\n`;
}
