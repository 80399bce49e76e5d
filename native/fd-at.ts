import { nativeAddon } from "./addon.js";

/**
 * fd-relative file calls for code that writes, as root, below a directory someone else
 * controls. Only the syscalls: the policy (which flags, where) is the caller's.
 * Every error is shaped like Node's own (`code`, `errno`, `syscall`, `path`).
 */

export type ResolveFlag = "beneath" | "noSymlinks" | "noMagiclinks" | "noXdev";

/** `AT_FDCWD`: relative paths resolve against the working directory. */
export function atFdcwd(): number {
  return nativeAddon().fdAtConstants.AT_FDCWD;
}

/** `O_PATH` (Node's fs.constants has none): a handle for lookups, not for I/O. */
export function oPath(): number {
  return nativeAddon().fdAtConstants.O_PATH;
}

function resolveBits(resolve: readonly ResolveFlag[]): number {
  const c = nativeAddon().fdAtConstants;
  const bits: Record<ResolveFlag, number> = {
    beneath: c.RESOLVE_BENEATH,
    noSymlinks: c.RESOLVE_NO_SYMLINKS,
    noMagiclinks: c.RESOLVE_NO_MAGICLINKS,
    noXdev: c.RESOLVE_NO_XDEV,
  };
  return resolve.reduce((acc, flag) => acc | bits[flag], 0);
}

/**
 * openat2(2): opens `path` relative to `dirfd` with `flags` (fs.constants O_*), always
 * close-on-exec. With `beneath` the lookup may not leave `dirfd`'s tree (no `..` out, no
 * absolute path); with `noSymlinks` no component may be a symlink.
 */
export function openat2(
  dirfd: number,
  path: string,
  flags: number,
  options: { mode?: number; resolve?: readonly ResolveFlag[] } = {},
): number {
  return nativeAddon().openat2(
    dirfd,
    path,
    flags,
    options.mode ?? 0,
    resolveBits(options.resolve ?? []),
  );
}

export function mkdirat(dirfd: number, name: string, mode: number): void {
  nativeAddon().mkdirat(dirfd, name, mode);
}

/** renameat(2): atomically replaces `to` (whatever it is but a directory) with `from`. */
export function renameat(fromDirfd: number, from: string, toDirfd: number, to: string): void {
  nativeAddon().renameat(fromDirfd, from, toDirfd, to);
}

/** unlinkat(2); `directory` removes an empty directory (AT_REMOVEDIR). */
export function unlinkat(dirfd: number, name: string, directory = false): void {
  nativeAddon().unlinkat(dirfd, name, directory ? nativeAddon().fdAtConstants.AT_REMOVEDIR : 0);
}
