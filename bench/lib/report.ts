/** What every bench reports; the JSON form is always the last line of its output. */
export interface BenchResult {
  name: string;
  /** Our figure. */
  ours: number;
  /** The baseline's figure, measured in the same run on the same machine. */
  baseline: number;
  unit: string;
  /** Whether a lower or a higher figure is better, so the ratio can be read. */
  better: "lower" | "higher";
  /** Anything else measured (RSS, CPU %, percentiles), printed and kept in the JSON. */
  extra?: Record<string, number | string>;
}

export function report(result: BenchResult): void {
  const ratio = result.ours / result.baseline;
  console.log(`${result.name}: ours ${fmt(result.ours)} ${result.unit}`);
  console.log(`${result.name}: baseline ${fmt(result.baseline)} ${result.unit}`);
  console.log(
    `${result.name}: ratio ours/baseline ${ratio.toFixed(3)} (${result.better} is better)`,
  );
  for (const [key, value] of Object.entries(result.extra ?? {})) {
    console.log(`${result.name}: ${key} ${typeof value === "number" ? fmt(value) : value}`);
  }
  console.log(JSON.stringify({ ...result, ratio: Number(ratio.toFixed(4)) }));
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(3);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? upper) + upper) / 2;
}
