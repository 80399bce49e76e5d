import { closeSync } from "node:fs";
import { nativeAddon } from "./addon.js";

/**
 * The bpf(2) calls for cgroup socket hooks, and nothing more: the program's bytes and
 * where it hangs are the caller's (agent/partitions/bind-guard.ts). Errors are shaped
 * like Node's (`code`, `errno`, `syscall`, `path`); a verifier refusal also carries
 * `verifierLog`.
 */

/** Where a cgroup socket-address program runs. */
export type SockAddrHook = "bind4" | "bind6";

function hookNumber(hook: SockAddrHook): number {
  const c = nativeAddon().bpfConstants;
  return hook === "bind4" ? c.CGROUP_INET4_BIND : c.CGROUP_INET6_BIND;
}

/**
 * Loads a `BPF_PROG_TYPE_CGROUP_SOCK_ADDR` program (raw instructions, 8 bytes each) for
 * `hook` and attaches it to the cgroup2 directory `cgroupDir` in exclusive mode: a
 * second attach on the same group replaces the first, and groups below cannot add
 * their own. The attachment lives as long as the group; no descriptor is kept.
 */
export function attachSockAddrProgram(
  cgroupDir: string,
  hook: SockAddrHook,
  instructions: Buffer,
): void {
  const addon = nativeAddon();
  const type = hookNumber(hook);
  const fd = addon.bpfProgLoad(
    addon.bpfConstants.PROG_TYPE_CGROUP_SOCK_ADDR,
    type,
    instructions,
    "GPL",
  );
  try {
    addon.bpfCgroupAttach(cgroupDir, fd, type, 0);
  } finally {
    closeSync(fd);
  }
}

/** Ids of the programs attached at `hook` on the group itself, or acting on it (`effective`). */
export function sockAddrPrograms(
  cgroupDir: string,
  hook: SockAddrHook,
  options: { effective?: boolean } = {},
): number[] {
  return nativeAddon().bpfCgroupQuery(cgroupDir, hookNumber(hook), options.effective === true).ids;
}
