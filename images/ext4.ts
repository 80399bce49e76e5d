import { writeFileSync } from "node:fs";
import { runTool } from "./run-tool.js";

export interface Ext4Spec {
  file: string;
  size: number;
  label: string;
  uuid: string;
  epoch: number;
  /** Tree copied in with `mke2fs -d`; an empty filesystem without it. */
  source?: { dir: string; paths: readonly string[] };
  signal?: AbortSignal;
}

/**
 * Builds an ext4 filesystem image with the same bytes for the same inputs: fixed UUID
 * and htree hash seed, every time from SOURCE_DATE_EPOCH (E2FSPROGS_FAKE_TIME for the
 * superblock, debugfs for the inode ctimes `mke2fs -d` copies from the staging tree).
 * `nodiscard` and lazy inode-table/journal init mean mke2fs never relies on the file
 * reading back zeros, so blocks it did not write may hold anything on the target (what
 * a bmap copy leaves there). No resize inode: its reserved GDT blocks are zeros that
 * matter (flashed over old data they read as garbage block numbers); online growth still
 * works through meta_bg.
 */
export async function makeExt4(spec: Ext4Spec): Promise<void> {
  const env = { SOURCE_DATE_EPOCH: String(spec.epoch), E2FSPROGS_FAKE_TIME: String(spec.epoch) };
  const args = [
    "-q",
    "-F",
    "-t",
    "ext4",
    "-b",
    "4096",
    "-O",
    "^resize_inode",
    "-L",
    spec.label,
    "-U",
    spec.uuid,
    "-E",
    `hash_seed=${spec.uuid},nodiscard,lazy_itable_init=1,lazy_journal_init=1`,
  ];
  if (spec.source) args.push("-d", spec.source.dir);
  args.push(spec.file, `${spec.size / 1024}k`);
  await runTool("mke2fs", args, { env, signal: spec.signal });
  const paths = ["/", ...(spec.source?.paths ?? [])];
  const commands = paths
    // debugfs (libss) quoting: a quote inside quotes is doubled; backslashes are literal
    // (systemd names units with them: system-systemd\x2dcryptsetup.slice).
    .map((p) => `sif "${p.replaceAll('"', '""')}" ctime @${spec.epoch}`)
    .join("\n");
  const script = `${spec.file}.debugfs`;
  writeFileSync(script, `${commands}\n`);
  await runTool("debugfs", ["-w", "-f", script, spec.file], { env, signal: spec.signal });
}
