import type { Logger } from "../../common/index.js";
import { attachSockAddrProgram, type Cgroup } from "../../native/index.js";
import { bind4Guard, bind6Guard } from "./bind-guard-program.js";

/**
 * How a partition is kept on its own address. `bpf`: cgroup bind hooks on its group in
 * the unified tree refuse any other address (see bind-guard-program.ts). `none`: the
 * host offers no cgroup2 tree or no cgroup BPF; `tcp:`/`http:` promises still check
 * that the listener they reach is the partition's (promises/socket-owner.ts).
 */
export type AddressGuard = { mode: "bpf" } | { mode: "none"; reason: string };

/**
 * Hangs the bind hooks for `address` on `group`, replacing any left by an earlier
 * agent. Every process of the partition, whatever group below it it runs in, is bound
 * by them. Never throws: a host without the means gets `none` and the reason.
 */
export function guardAddress(group: Cgroup, address: string): AddressGuard {
  const dir = group.dirs.unified;
  if (dir === undefined) return { mode: "none", reason: "no cgroup2 hierarchy is mounted" };
  try {
    attachSockAddrProgram(dir, "bind4", bind4Guard(address));
    attachSockAddrProgram(dir, "bind6", bind6Guard(address));
    return { mode: "bpf" };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { verifierLog?: string };
    const why = e.verifierLog
      ? `${e.message}: ${e.verifierLog.trim().split("\n").pop()}`
      : e.message;
    return { mode: "none", reason: `cgroup bind hooks refused: ${why}` };
  }
}

/** One line at start: how partitions are kept to their addresses, and why not when not. */
export function logAddressGuard(
  logger: Logger,
  partitions: readonly { number: number; addressGuard?: AddressGuard }[],
): void {
  const missing = partitions.find((p) => p.addressGuard?.mode === "none");
  if (missing?.addressGuard?.mode === "none") {
    logger.warn({ mode: "none", reason: missing.addressGuard.reason }, "partitions.address_guard");
  } else if (partitions.some((p) => p.addressGuard?.mode === "bpf")) {
    logger.info({ mode: "bpf" }, "partitions.address_guard");
  }
}
