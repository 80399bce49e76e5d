import { lstatSync, lutimesSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ImageInputError } from "./errors.js";
import { runTool } from "./run-tool.js";

export interface StagedRootfs {
  /** The tree that becomes rootfs A. */
  root: string;
  /** The tree that fills the boot partition (moved out of the rootfs). */
  boot: string;
  /** Every path below `root`, `/`-rooted, parents before children, sorted. */
  rootPaths: string[];
  /** SOURCE_DATE_EPOCH used: the one given, else the newest mtime in the tarball. */
  epoch: number;
}

/**
 * Extracts a rootfs tarball as root (owners and modes kept), moves the subtree the boot
 * partition holds (`bootDir`, e.g. `boot/efi`) out of it, and clamps every timestamp to
 * SOURCE_DATE_EPOCH: atime becomes the epoch, mtime never later than it. `overlay` adds
 * to both trees before the clamp. ctime cannot be
 * set from user space; the ext4 builder pins it afterwards.
 */
export async function stageRootfs(
  tarball: string,
  workDir: string,
  bootDir: string,
  givenEpoch: number | undefined,
  signal?: AbortSignal,
  overlay?: (root: string, boot: string) => Promise<void>,
): Promise<StagedRootfs> {
  const root = join(workDir, "rootfs");
  const boot = join(workDir, "boot");
  mkdirSync(root, { recursive: true });
  try {
    await runTool("tar", ["--numeric-owner", "--same-owner", "-xpf", tarball, "-C", root], {
      signal,
    });
  } catch (err) {
    if ((err as Error).name === "AbortError") throw err;
    throw new ImageInputError(
      `rootfs tarball ${tarball} cannot be extracted: ${(err as Error).message}`,
      tarball,
    );
  }
  const epoch = givenEpoch ?? newestMtime(root);
  const inRoot = join(root, bootDir);
  if (isDirectory(inRoot)) {
    renameSync(inRoot, boot);
    mkdirSync(inRoot);
  } else {
    rmSync(inRoot, { force: true, recursive: true });
    mkdirSync(inRoot, { recursive: true });
    mkdirSync(boot);
  }
  // Before clamping: what the overlay adds gets the build's times too.
  await overlay?.(root, boot);
  const rootPaths = clampTimes(root, "", epoch);
  clampTimes(boot, "", epoch);
  return { root, boot, rootPaths, epoch };
}

function newestMtime(dir: string): number {
  let newest = Math.floor(lstatSync(dir).mtimeMs / 1000);
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const st = lstatSync(join(entry.parentPath, entry.name));
    newest = Math.max(newest, Math.floor(st.mtimeMs / 1000));
  }
  return newest;
}

function isDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

function clampTimes(base: string, rel: string, epoch: number): string[] {
  const paths: string[] = [];
  for (const name of readdirSync(join(base, rel)).sort()) {
    const path = `${rel}/${name}`;
    const st = lstatSync(join(base, path));
    lutimesSync(join(base, path), epoch, Math.min(st.mtimeMs / 1000, epoch));
    paths.push(path);
    if (st.isDirectory()) paths.push(...clampTimes(base, path, epoch));
  }
  // Children first changed the directory's times again; set them last.
  const st = lstatSync(join(base, rel));
  lutimesSync(join(base, rel), epoch, Math.min(st.mtimeMs / 1000, epoch));
  return paths;
}
