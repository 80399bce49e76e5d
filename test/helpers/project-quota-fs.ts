import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A loop-mounted ext4 with project quota enforced, and how to take it away. */
export interface ProjectQuotaFs {
  /** The mount point (mode 0711, like /var/lib). */
  dir: string;
  remove(): void;
}

/**
 * Makes an ext4 image of `sizeMiB` with the quota and project features (the quota
 * files are hidden inodes: accounting starts at mount) and loop-mounts it with
 * `prjquota`, which turns enforcement on. Needs root and a kernel with CONFIG_QFMT_V2
 * (see kernel-vm.ts for one).
 */
export function mountProjectQuotaFs(sizeMiB = 64): ProjectQuotaFs {
  const base = mkdtempSync(join(tmpdir(), "outpost-prjquota-"));
  chmodSync(base, 0o711);
  const img = join(base, "fs.img");
  const dir = join(base, "mnt");
  mkdirSync(dir);
  execFileSync("truncate", ["-s", `${sizeMiB}M`, img]);
  execFileSync("mkfs.ext4", ["-q", "-O", "quota,project", img]);
  execFileSync("mount", ["-o", "loop,prjquota", img, dir]);
  chmodSync(dir, 0o711);
  return {
    dir,
    remove() {
      execFileSync("umount", [dir]);
      rmSync(base, { recursive: true, force: true });
    },
  };
}
