import { type MountEntry, parseMounts } from "../../common/index.js";
import { cgroupModeOf, parseCgroupMounts } from "../../native/index.js";
import type { HostAuditInputs } from "./audit-inputs.js";

/** `unknown`: this host would not say (a file it keeps unreadable); treated as not holding. */
export type HostCheckStatus = "ok" | "missing" | "unknown";

export interface HostCheck {
  id: "proc-hidepid" | "project-quota" | "cgroup-bpf" | "seccomp" | "cgroups";
  status: HostCheckStatus;
  /** What was found, and why it matters when it is not ok. */
  detail: string;
  /** What to do; absent when ok. */
  remedy?: string;
}

/** The mount `path` lives on: the longest mount point above it, the last one mounted there. */
function mountOf(path: string, mounts: readonly MountEntry[]): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const m of mounts) {
    const above =
      m.mountPoint === "/" || path === m.mountPoint || path.startsWith(`${m.mountPoint}/`);
    if (above && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

function option(m: MountEntry, name: string): string | undefined {
  const found = m.options.findLast((o) => o === name || o.startsWith(`${name}=`));
  return found === undefined ? undefined : (found.split("=")[1] ?? "");
}

const HIDEPID_REMEDY =
  "add `proc /proc proc defaults,hidepid=invisible 0 0` to /etc/fstab and run `mount -o remount,hidepid=invisible /proc` (Outpost images have it)";

function procHidepid(mounts: readonly MountEntry[]): HostCheck {
  const proc = mounts.findLast((m) => m.mountPoint === "/proc" && m.fsType === "proc");
  if (!proc)
    return {
      id: "proc-hidepid",
      status: "missing",
      detail: "no proc filesystem is mounted on /proc",
      remedy: HIDEPID_REMEDY,
    };
  const hidepid = option(proc, "hidepid");
  const gid = option(proc, "gid");
  const seeAll = gid ? `; group ${gid} sees every process` : "";
  if (hidepid === "2" || hidepid === "invisible" || hidepid === "4" || hidepid === "ptraceable")
    return {
      id: "proc-hidepid",
      status: "ok",
      detail: `/proc has hidepid=${hidepid}: a partition sees only its own processes${seeAll}`,
    };
  if (hidepid === "1" || hidepid === "noaccess")
    return {
      id: "proc-hidepid",
      status: "ok",
      detail: `/proc has hidepid=${hidepid}: a partition reads only its own processes (it may still list others' pids)${seeAll}`,
    };
  return {
    id: "proc-hidepid",
    status: "missing",
    detail:
      "/proc is mounted without hidepid: every partition can list every process and read its command line",
    remedy: HIDEPID_REMEDY,
  };
}

const NO_QUOTA_SUPPORT = new Set(["ENOSYS", "EOPNOTSUPP", "ENOTTY", "EINVAL"]);

function quotaRemedy(m: MountEntry | undefined): string {
  if (m?.fsType === "xfs") return `mount ${m.source} with prjquota (in /etc/fstab)`;
  if (m?.fsType === "ext4")
    return `with ${m.source} unmounted, run \`tune2fs -O quota,project ${m.source}\`, then mount it with prjquota (in /etc/fstab)`;
  return "put the data directory on ext4 (made with -O quota,project) or XFS, mounted with prjquota";
}

function projectQuota(inputs: HostAuditInputs, mounts: readonly MountEntry[]): HostCheck {
  const m = mountOf(inputs.data.resolved, mounts);
  const where = m ? `${m.source} (${m.fsType} on ${m.mountPoint})` : inputs.data.resolved;
  const why = "a partition can fill it for every other";
  const missing = (detail: string): HostCheck => ({
    id: "project-quota",
    status: "missing",
    detail: `${detail}: ${why}`,
    remedy: quotaRemedy(m),
  });
  const { quota } = inputs.data;
  if ("error" in quota) {
    if (quota.error === "ESRCH") return missing(`project quota is off on ${where}`);
    if (NO_QUOTA_SUPPORT.has(quota.error))
      return missing(`no project quota on ${where} (quotactl_fd: ${quota.error})`);
    if (m && ["prjquota", "pquota", "prjjquota"].some((o) => option(m, o) !== undefined))
      return {
        id: "project-quota",
        status: "ok",
        detail: `${where} is mounted with project quota (from its mount options; the kernel would not say: ${quota.error})`,
      };
    return {
      id: "project-quota",
      status: "unknown",
      detail: `cannot ask the kernel about ${where} (${quota.error}), and its mount options name no project quota`,
      remedy: "run the audit as root",
    };
  }
  if (quota.enforced)
    return { id: "project-quota", status: "ok", detail: `project quota enforced on ${where}` };
  if (quota.accounting) return missing(`project usage is counted on ${where} but not enforced`);
  return missing(`project quota is off on ${where}`);
}

function configValues(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const m of text.matchAll(/^(CONFIG_\w+)=(.*)$/gm))
    values.set(m[1] as string, m[2] as string);
  return values;
}

function cgroupBpf(inputs: HostAuditInputs): HostCheck {
  const v2 = parseCgroupMounts(inputs.mounts).find((m) => m.fsType === "cgroup2");
  if (!v2)
    return {
      id: "cgroup-bpf",
      status: "missing",
      detail:
        "no cgroup2 hierarchy is mounted: the programs that keep partitions off each other's addresses attach to cgroup2 groups",
      remedy:
        "boot with systemd.unified_cgroup_hierarchy=1 (pure v2), or mount cgroup2 on /sys/fs/cgroup/unified (hybrid)",
    };
  if (!inputs.kernelConfig)
    return {
      id: "cgroup-bpf",
      status: "unknown",
      detail: `cgroup2 on ${v2.mountPoint}; the kernel's configuration is not readable (/proc/config.gz, /boot/config-${inputs.kernel}), so CONFIG_CGROUP_BPF is unknown`,
      remedy: `load the configs module (modprobe configs) or install /boot/config-${inputs.kernel}`,
    };
  const config = configValues(inputs.kernelConfig.text);
  const lacking = ["CONFIG_BPF_SYSCALL", "CONFIG_CGROUP_BPF"].filter((k) => config.get(k) !== "y");
  if (lacking.length > 0)
    return {
      id: "cgroup-bpf",
      status: "missing",
      detail: `kernel ${inputs.kernel} is built without ${lacking.join(" and ")} (${inputs.kernelConfig.source}): no BPF programs on cgroups`,
      remedy: "run a kernel built with CONFIG_BPF_SYSCALL=y and CONFIG_CGROUP_BPF=y (Debian's is)",
    };
  return {
    id: "cgroup-bpf",
    status: "ok",
    detail: `cgroup2 on ${v2.mountPoint}, CONFIG_CGROUP_BPF=y (${inputs.kernelConfig.source})`,
  };
}

function seccomp(inputs: HostAuditInputs): HostCheck {
  const remedy =
    "run a kernel built with CONFIG_SECCOMP=y and CONFIG_SECCOMP_FILTER=y (Debian's is)";
  const mode = /^Seccomp:\s*(\d)/m.exec(inputs.status)?.[1];
  if (mode === undefined)
    return {
      id: "seccomp",
      status: "missing",
      detail: "the kernel has no seccomp (no Seccomp: line in /proc/self/status)",
      remedy,
    };
  const actions = inputs.seccompActions?.trim().split(/\s+/) ?? [];
  if (!actions.includes("errno") || !actions.includes("kill_process"))
    return {
      id: "seccomp",
      status: "missing",
      detail: `seccomp filters cannot refuse calls (actions: ${actions.join(" ") || "none, /proc/sys/kernel/seccomp/actions_avail missing"})`,
      remedy,
    };
  const filtered =
    mode === "2" ? "; the agent itself runs under a filter, which its processes inherit" : "";
  return {
    id: "seccomp",
    status: "ok",
    detail: `seccomp filters available (actions: ${actions.join(" ")})${filtered}`,
  };
}

function cgroups(inputs: HostAuditInputs): HostCheck {
  const mode = cgroupModeOf(parseCgroupMounts(inputs.mounts));
  const detail = {
    v2: "pure cgroup v2 on /sys/fs/cgroup",
    hybrid: "hybrid: v1 controllers, cgroup2 on /sys/fs/cgroup/unified",
    v1: "cgroup v1 only",
  };
  if (mode) return { id: "cgroups", status: "ok", detail: detail[mode] };
  return {
    id: "cgroups",
    status: "missing",
    detail: "no cgroup hierarchy under /sys/fs/cgroup: partitions would have no limits",
    remedy: "mount cgroup2 on /sys/fs/cgroup (systemd does at boot)",
  };
}

/** Pure: every check, in a fixed order. */
export function hostChecks(inputs: HostAuditInputs): HostCheck[] {
  const mounts = parseMounts(inputs.mounts);
  return [
    procHidepid(mounts),
    projectQuota(inputs, mounts),
    cgroupBpf(inputs),
    seccomp(inputs),
    cgroups(inputs),
  ];
}

/** `ok` when every check is; else `missing` if one is, else `unknown`. */
export function hostVerdict(checks: readonly HostCheck[]): HostCheckStatus {
  if (checks.every((c) => c.status === "ok")) return "ok";
  return checks.some((c) => c.status === "missing") ? "missing" : "unknown";
}
