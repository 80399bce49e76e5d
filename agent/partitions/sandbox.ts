import type { Logger } from "../../common/index.js";
import {
  buildSeccompFilter,
  hostSeccompArch,
  type SeccompArch,
  type SeccompPolicy,
} from "../../native/index.js";

/** include/uapi/linux/sched.h */
const CLONE_NEWUSER = 0x10000000;

/**
 * What no process of a partition (or build) may do, whatever its release says: the
 * default seccomp policy. A release may add names (`instance.seccomp.deny`), never
 * remove one. Each entry is something a partition never needs and an attacker wants:
 *
 * - user namespaces (clone/unshare with CLONE_NEWUSER): they hand an unprivileged
 *   process every capability inside, which opens most of the kernel's root-only code
 *   to it; clone3 fails with ENOSYS because its flags sit behind a pointer the filter
 *   cannot read (glibc, Go, Rust fall back to clone, as under Docker and systemd);
 *   setns: joining another namespace.
 * - the kernel keyring (keyctl, add_key, request_key): not namespaced, shared by uid.
 * - other processes' memory and files (ptrace, process_vm_readv/writev, pidfd_getfd,
 *   kcmp), even its own partition's: no debugger runs in a partition.
 * - kernel attack surface a partition never needs: bpf, perf_event_open, userfaultfd,
 *   open_by_handle_at, kexec and module loading (the last ones need capabilities a
 *   partition never has; denied anyway).
 *
 * Not denied (used by real programs): io_uring (libuv, databases), mount & co. (they
 * need CAP_SYS_ADMIN, which only a user namespace could give).
 */
export const PARTITION_SECCOMP_POLICY: Readonly<Required<SeccompPolicy>> = {
  deny: [
    "setns",
    "keyctl",
    "add_key",
    "request_key",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_getfd",
    "kcmp",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "open_by_handle_at",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
  ],
  enosys: ["clone3"],
  denyFlags: [
    { syscall: "clone", arg: 0, mask: CLONE_NEWUSER },
    { syscall: "unshare", arg: 0, mask: CLONE_NEWUSER },
  ],
};

/**
 * What every process the agent starts for a partition or a build is spawned with. No
 * `seccomp` on an architecture without a syscall table (armhf): see docs/security.md.
 */
export interface Sandbox {
  noNewPrivs: true;
  seccomp?: Uint8Array;
}

/** The architecture filters are built for here, or undefined where none can be (armhf). */
export function sandboxArch(arch: string = process.arch): SeccompArch | undefined {
  try {
    return hostSeccompArch(arch);
  } catch {
    return undefined;
  }
}

const built = new Map<string, Sandbox>();

/**
 * Says once, at start, what every partition process gets: `agent.sandbox` (info) with
 * the filter's architecture, or a warning where there is no syscall table (armhf).
 */
export function logSandbox(logger: Logger, nodeArch: string = process.arch): void {
  const arch = sandboxArch(nodeArch);
  if (arch === undefined)
    logger.warn(
      { noNewPrivs: true, seccomp: "none", arch: nodeArch, reason: "no syscall table for it" },
      "agent.sandbox",
    );
  else
    logger.info(
      { noNewPrivs: true, seccomp: arch, denied: PARTITION_SECCOMP_POLICY.deny.length + 3 },
      "agent.sandbox",
    );
}

/**
 * no_new_privs and the default filter plus `extraDeny` (a release's own names, checked
 * when its descriptor was parsed) for `nodeArch` (`process.arch`). Built once per list;
 * pure apart from that cache.
 */
export function partitionSandbox(
  extraDeny: readonly string[] = [],
  nodeArch: string = process.arch,
): Sandbox {
  const arch = sandboxArch(nodeArch);
  if (arch === undefined) return { noNewPrivs: true };
  const key = `${arch}:${[...extraDeny].sort().join(",")}`;
  let sandbox = built.get(key);
  if (!sandbox) {
    const policy = PARTITION_SECCOMP_POLICY;
    sandbox = {
      noNewPrivs: true,
      seccomp: buildSeccompFilter({ ...policy, deny: [...policy.deny, ...extraDeny] }, arch),
    };
    built.set(key, sandbox);
  }
  return sandbox;
}
