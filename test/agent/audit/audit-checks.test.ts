import { strict as assert } from "node:assert";
import { type HostAuditInputs, hostChecks, hostVerdict } from "../../../agent/index.js";

const V2_MOUNTS = [
  "/dev/sda2 / ext4 rw,relatime 0 0",
  "proc /proc proc rw,nosuid,nodev,noexec,relatime,hidepid=invisible 0 0",
  "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0",
  "/dev/sda4 /var/lib/outpost ext4 rw,relatime,prjquota 0 0",
].join("\n");

/** A gateway as an Outpost image makes it: every check holds. */
const gateway: HostAuditInputs = {
  kernel: "6.1.0-18-amd64",
  mounts: V2_MOUNTS,
  status: "Name:\tnode\nSeccomp:\t0\nSeccomp_filters:\t0\n",
  seccompActions: "kill_process kill_thread trap errno user_notif trace log allow\n",
  kernelConfig: {
    source: "/boot/config-6.1.0-18-amd64",
    text: "CONFIG_BPF_SYSCALL=y\nCONFIG_CGROUP_BPF=y\n# CONFIG_X is not set\n",
  },
  data: {
    path: "/var/lib/outpost/agent",
    resolved: "/var/lib/outpost/agent",
    quota: { accounting: true, enforced: true },
  },
};

function check(inputs: HostAuditInputs, id: string) {
  const found = hostChecks(inputs).find((c) => c.id === id);
  assert.ok(found, id);
  return found;
}

describe("agent audit checks (pure, laid-out hosts)", () => {
  it("passes a gateway with hidepid, enforced project quota, cgroup BPF, seccomp and pure v2", () => {
    const checks = hostChecks(gateway);
    assert.deepEqual(
      checks.map((c) => [c.id, c.status]),
      [
        ["proc-hidepid", "ok"],
        ["project-quota", "ok"],
        ["cgroup-bpf", "ok"],
        ["seccomp", "ok"],
        ["cgroups", "ok"],
      ],
    );
    assert.ok(checks.every((c) => c.remedy === undefined));
    assert.equal(
      check(gateway, "project-quota").detail,
      "project quota enforced on /dev/sda4 (ext4 on /var/lib/outpost)",
    );
    assert.equal(check(gateway, "cgroups").detail, "pure cgroup v2 on /sys/fs/cgroup");
    assert.equal(hostVerdict(checks), "ok");
  });

  it("hidepid: missing when absent or off, ok in every hiding form, the last /proc mount counting", () => {
    const withProc = (options: string) => ({
      ...gateway,
      mounts: V2_MOUNTS.replace(/^proc .*$/m, `proc /proc proc ${options} 0 0`),
    });
    for (const options of ["rw,relatime", "rw,hidepid=off", "rw,hidepid=0"]) {
      const c = check(withProc(options), "proc-hidepid");
      assert.equal(c.status, "missing", options);
      assert.match(c.detail, /every partition can list every process and read its command line/);
      assert.match(c.remedy ?? "", /hidepid=invisible 0 0` to \/etc\/fstab/);
    }
    for (const value of ["2", "invisible", "ptraceable", "1", "noaccess"])
      assert.equal(check(withProc(`rw,hidepid=${value}`), "proc-hidepid").status, "ok", value);
    assert.match(
      check(withProc("rw,hidepid=invisible,gid=42"), "proc-hidepid").detail,
      /group 42 sees every process/,
    );
    const stacked = { ...gateway, mounts: `${V2_MOUNTS}\nproc /proc proc rw,relatime 0 0` };
    assert.equal(check(stacked, "proc-hidepid").status, "missing", "the mount on top counts");
  });

  it("project quota: the data directory's own filesystem, off, counted only, unsupported, or unknown without root", () => {
    const quota = (state: HostAuditInputs["data"]["quota"], mounts = V2_MOUNTS) =>
      check({ ...gateway, mounts, data: { ...gateway.data, quota: state } }, "project-quota");
    const off = quota({ error: "ESRCH" });
    assert.equal(off.status, "missing");
    assert.match(
      off.detail,
      /^project quota is off on \/dev\/sda4 \(ext4 on \/var\/lib\/outpost\): a partition can fill it/,
    );
    assert.match(off.remedy ?? "", /tune2fs -O quota,project \/dev\/sda4/);
    assert.match(
      quota({ accounting: true, enforced: false }).detail,
      /counted on .* but not enforced/,
    );
    assert.equal(quota({ accounting: false, enforced: false }).status, "missing");
    const tmpfs = quota(
      { error: "ENOSYS" },
      V2_MOUNTS.replace("/dev/sda4 /var/lib/outpost ext4", "tmpfs /var/lib/outpost tmpfs"),
    );
    assert.match(
      tmpfs.detail,
      /no project quota on tmpfs \(tmpfs on \/var\/lib\/outpost\) \(quotactl_fd: ENOSYS\)/,
    );
    assert.match(tmpfs.remedy ?? "", /ext4 \(made with -O quota,project\) or XFS/);
    assert.equal(quota({ error: "EPERM" }).status, "ok", "prjquota in its mount options");
    const unknown = quota({ error: "EPERM" }, V2_MOUNTS.replace(",prjquota", ""));
    assert.equal(unknown.status, "unknown");
    assert.equal(unknown.remedy, "run the audit as root");
    const onRoot = check(
      { ...gateway, data: { path: "/srv/agent", resolved: "/srv", quota: { error: "ESRCH" } } },
      "project-quota",
    );
    assert.match(onRoot.detail, /\/dev\/sda2 \(ext4 on \/\)/, "a directory under / is on /");
    const xfs = quota(
      { error: "ESRCH" },
      V2_MOUNTS.replace("/var/lib/outpost ext4", "/var/lib/outpost xfs"),
    );
    assert.equal(xfs.remedy, "mount /dev/sda4 with prjquota (in /etc/fstab)");
  });

  it("cgroup BPF: needs a cgroup2 mount and CONFIG_CGROUP_BPF; unknown when the config is unreadable", () => {
    const v1 = [
      "/dev/sda2 / ext4 rw 0 0",
      "cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0",
    ].join("\n");
    const noV2 = check({ ...gateway, mounts: v1 }, "cgroup-bpf");
    assert.equal(noV2.status, "missing");
    assert.match(noV2.remedy ?? "", /systemd\.unified_cgroup_hierarchy=1/);
    assert.equal(check({ ...gateway, mounts: v1 }, "cgroups").detail, "cgroup v1 only");
    const hybrid = `${v1}\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0`;
    assert.equal(check({ ...gateway, mounts: hybrid }, "cgroup-bpf").status, "ok");
    assert.match(check({ ...gateway, mounts: hybrid }, "cgroups").detail, /^hybrid/);
    const unknown = check({ ...gateway, kernelConfig: null }, "cgroup-bpf");
    assert.equal(unknown.status, "unknown");
    assert.match(unknown.detail, /\/boot\/config-6\.1\.0-18-amd64/);
    const without = check(
      {
        ...gateway,
        kernelConfig: {
          source: "/proc/config.gz",
          text: "CONFIG_BPF_SYSCALL=y\n# CONFIG_CGROUP_BPF is not set\n",
        },
      },
      "cgroup-bpf",
    );
    assert.equal(without.status, "missing");
    assert.match(without.detail, /built without CONFIG_CGROUP_BPF \(\/proc\/config\.gz\)/);
    assert.equal(hostVerdict(hostChecks({ ...gateway, kernelConfig: null })), "unknown");
  });

  it("seccomp: the Seccomp: line and filter actions; a filtered agent is said", () => {
    assert.equal(check({ ...gateway, status: "Name:\tnode\n" }, "seccomp").status, "missing");
    const noFilters = check({ ...gateway, seccompActions: null }, "seccomp");
    assert.equal(noFilters.status, "missing");
    assert.match(noFilters.detail, /actions_avail missing/);
    assert.match(
      check({ ...gateway, status: "Seccomp:\t2\n" }, "seccomp").detail,
      /the agent itself runs under a filter/,
    );
    assert.equal(
      check({ ...gateway, mounts: "/dev/sda2 / ext4 rw 0 0" }, "cgroups").status,
      "missing",
    );
    assert.equal(
      hostVerdict(hostChecks({ ...gateway, seccompActions: null, kernelConfig: null })),
      "missing",
    );
  });
});
