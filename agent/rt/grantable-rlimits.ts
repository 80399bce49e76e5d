import { readFileSync } from "node:fs";
import { getRlimit, type Rlimit, type RlimitName } from "../../native/index.js";

const CAP_SYS_RESOURCE = 24n;

function hasCapSysResource(): boolean {
  const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
  return line !== null && ((BigInt(`0x${line[1]}`) >> CAP_SYS_RESOURCE) & 1n) === 1n;
}

const shown = (n: number) => (n === Number.POSITIVE_INFINITY ? "unlimited" : String(n));

/**
 * What of `wanted` the agent can hand a child: without CAP_SYS_RESOURCE (a container,
 * a unit with the capability dropped) no hard limit may rise above the agent's own, so
 * each is clamped to it and a note says so and how to fix it, instead of every start
 * failing with EPERM.
 */
export function grantableRlimits(wanted: Partial<Record<RlimitName, Rlimit>>): {
  rlimits: Partial<Record<RlimitName, Rlimit>>;
  notes: string[];
} {
  if (hasCapSysResource()) return { rlimits: wanted, notes: [] };
  const rlimits: Partial<Record<RlimitName, Rlimit>> = {};
  const notes: string[] = [];
  for (const [name, limit] of Object.entries(wanted) as [RlimitName, Rlimit][]) {
    const own = getRlimit(process.pid, name);
    if (limit.hard <= own.hard) {
      rlimits[name] = limit;
      continue;
    }
    rlimits[name] = { soft: Math.min(limit.soft, own.hard), hard: own.hard };
    notes.push(
      `RLIMIT_${name.toUpperCase()} ${shown(own.hard)}, not ${shown(limit.hard)}: the agent lacks ` +
        `CAP_SYS_RESOURCE, raise its own limit (systemd Limit${name === "rtprio" ? "RTPRIO" : "MEMLOCK"}=)`,
    );
  }
  return { rlimits, notes };
}
