import { renderTable } from "../../common/index.js";
import type { PlotSeries } from "./plot-svg.js";

const BAR = 30;

/**
 * Pure: latency histograms side by side as text, in power-of-two bins (0, 1, 2-3, 4-7 …
 * µs) from the lowest sample to the highest, then the overflow; each bar is log-scaled, so one late
 * sample among millions still shows.
 */
export function latencyHistogramText(
  series: readonly PlotSeries[],
  histogramMaxUs: number,
): string {
  const top = Math.max(0, ...series.flatMap((s) => s.histogram.map(([us]) => us)));
  const bins: [number, number][] = [[0, 0]];
  for (let lo = 1; lo <= top; lo *= 2) bins.push([lo, Math.min(lo * 2 - 1, histogramMaxUs - 1)]);
  const counts = series.map((s) =>
    bins.map(([lo, hi]) =>
      s.histogram.reduce((n, [us, c]) => (us >= lo && us <= hi ? n + c : n), 0),
    ),
  );
  const overflow = series.map((s) => s.overflow ?? 0);
  const peak = Math.max(1, ...counts.flat(), ...overflow);
  const bar = (n: number) =>
    "#".repeat(
      n === 0 ? 0 : Math.max(1, Math.round((Math.log10(n + 1) / Math.log10(peak + 1)) * BAR)),
    );
  const label = (lo: number, hi: number) => (lo === hi ? `${lo}` : `${lo}-${hi}`);
  const rows: string[][] = [["µs", ...series.map((s) => s.label)]];
  // Rows start at the first bin with a sample: a quiet box's empty 0-7 µs say nothing.
  const first = Math.max(
    0,
    bins.findIndex((_, i) => counts.some((c) => (c[i] ?? 0) > 0)),
  );
  bins.forEach(([lo, hi], i) => {
    if (i < first) return;
    rows.push([
      label(lo, hi),
      ...counts.map((c) => `${String(c[i]).padStart(7)} ${bar(c[i] ?? 0)}`),
    ]);
  });
  if (overflow.some((n) => n > 0))
    rows.push([
      `>=${histogramMaxUs}`,
      ...overflow.map((n) => `${String(n).padStart(7)} ${bar(n)}`),
    ]);
  return renderTable(rows, { align: ["right"] });
}
