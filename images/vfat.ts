import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { runTool } from "./run-tool.js";

export interface VfatSpec {
  file: string;
  size: number;
  label: string;
  /** Volume id, 8 hex digits. */
  volumeId: string;
  epoch: number;
  sourceDir: string;
  signal?: AbortSignal;
}

/**
 * Builds a FAT filesystem image and fills it with mtools, no loop mount. Directories are
 * made and files copied in sorted order, so the directory entries and cluster chains are
 * the same on every build; times come from SOURCE_DATE_EPOCH and the clamped mtimes.
 */
export async function makeVfat(spec: VfatSpec): Promise<void> {
  const env = { SOURCE_DATE_EPOCH: String(spec.epoch), MTOOLS_SKIP_CHECK: "1" };
  const signal = spec.signal;
  await runTool(
    "mkfs.vfat",
    [
      "-C",
      "--invariant",
      "-i",
      spec.volumeId,
      "-n",
      spec.label.slice(0, 11).toUpperCase(),
      spec.file,
      String(spec.size / 1024),
    ],
    { env, signal },
  );
  const dirs: string[] = [];
  const files = new Map<string, string[]>();
  walk(spec.sourceDir, "", dirs, files);
  if (dirs.length > 0)
    await runTool("mmd", ["-i", spec.file, ...dirs.map((d) => `::${d}`)], { env, signal });
  for (const [dir, names] of files) {
    const sources = names.map((n) => join(spec.sourceDir, dir, n));
    await runTool("mcopy", ["-m", "-i", spec.file, ...sources, `::${dir}/`], { env, signal });
  }
}

function walk(base: string, rel: string, dirs: string[], files: Map<string, string[]>): void {
  for (const name of readdirSync(join(base, rel)).sort()) {
    const path = `${rel}/${name}`;
    if (statSync(join(base, path)).isDirectory()) {
      dirs.push(path);
      walk(base, path, dirs, files);
    } else {
      files.set(rel, [...(files.get(rel) ?? []), name]);
    }
  }
}
