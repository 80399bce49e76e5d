import { strict as assert } from "node:assert";
import {
  capToCeiling,
  cgroupLimitsOf,
  defaultLimits,
  openFilesRlimit,
  reportedLimits,
  resolveLimits,
} from "../../agent/limits.js";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const box = { memoryBytes: 8 * GiB, cpus: 4, diskBytes: 64 * GiB, partitions: 4 };

describe("agent limits", () => {
  it("defaults: partitions share half the memory and half the data filesystem, 512 tasks, all cores but one", () => {
    const d = defaultLimits(box);
    assert.deepEqual(d.instance, {
      memory: 1 * GiB,
      pids: 512,
      cpu: 3,
      openFiles: 4096,
      disk: 8 * GiB,
    });
    assert.deepEqual(d.build, { memory: 4 * GiB, pids: 4096, cpu: 3, openFiles: 65_536 });
    assert.deepEqual(d.promise, { memory: 256 * MiB, pids: 64, cpu: 1, openFiles: 1024 });
  });

  it("defaults: a share never falls below 64 MiB and a one-core box still gets a core", () => {
    const d = defaultLimits({
      memoryBytes: 512 * MiB,
      cpus: 1,
      diskBytes: 1 * GiB,
      partitions: 254,
    });
    assert.equal(d.instance.memory, 64 * MiB);
    assert.equal(d.instance.disk, 64 * MiB);
    assert.equal(d.instance.cpu, 1);
    assert.equal(d.build.memory, 256 * MiB);
  });

  it("the operator's settings win key by key; null is no limit", () => {
    const l = resolveLimits(
      { instance: { memory: 256 * MiB, cpu: null }, build: { pids: 100 } },
      box,
    );
    assert.equal(l.instance.memory, 256 * MiB);
    assert.equal(l.instance.cpu, null);
    assert.equal(l.instance.pids, 512);
    assert.equal(l.build.pids, 100);
    assert.equal(l.build.memory, 4 * GiB);
  });

  it("maps to cgroup settings (null removes a limit) and to RLIMIT_NOFILE soft = hard", () => {
    assert.deepEqual(cgroupLimitsOf({ memory: 5, pids: null, cpu: 0.5, openFiles: 64 }), {
      memoryMax: 5,
      pidsMax: null,
      cpuCores: 0.5,
    });
    assert.deepEqual(openFilesRlimit({ openFiles: 64 }), { soft: 64, hard: 64 });
  });

  it("a release's declared limits hold below the partition's, never above (the operator's ceiling)", () => {
    const ceiling = { memory: 128 * MiB, pids: 512, cpu: 1, openFiles: 4096 };
    assert.deepEqual(capToCeiling({ memoryMax: 64 * MiB, pidsMax: 32, cpuCores: 0.5 }, ceiling), {
      limits: { memoryMax: 64 * MiB, pidsMax: 32, cpuCores: 0.5 },
      capped: [],
    });
    assert.deepEqual(capToCeiling({ memoryMax: 1 * GiB, pidsMax: 9999, cpuCores: 4 }, ceiling), {
      limits: { memoryMax: 128 * MiB, pidsMax: 512, cpuCores: 1 },
      capped: ["memoryMax", "pidsMax", "cpuCores"],
    });
    const open = { memory: null, pids: null, cpu: null, openFiles: 4096 };
    assert.deepEqual(capToCeiling({ memoryMax: 1 * GiB }, open).capped, []);
    assert.deepEqual(capToCeiling({ cpus: [1] }, undefined), { limits: { cpus: [1] }, capped: [] });
  });

  it("reports what holds: no group limits without the group, the disk with how it holds", () => {
    const limits = { memory: 1 * GiB, pids: 512, cpu: null, openFiles: 4096, disk: 8 * GiB };
    assert.deepEqual(reportedLimits(limits, { group: true, disk: "quota", diskBytes: 8 * GiB }), {
      memoryBytes: 1 * GiB,
      pids: 512,
      openFiles: 4096,
      diskBytes: 8 * GiB,
      disk: "quota",
    });
    assert.deepEqual(reportedLimits(limits, { group: false, disk: "none" }), { openFiles: 4096 });
  });
});
