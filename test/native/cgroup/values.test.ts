import { strict as assert } from "node:assert";
import {
  cfsQuotaV1,
  cpuMaxV2,
  parseKeyedFile,
  parsePartition,
  parseSize,
  weightToShares,
} from "../../../native/cgroup/values.js";

describe("cgroup value formats", () => {
  it("turns cores into a quota per 100 ms period, with the kernel's 1 ms floor", () => {
    assert.equal(cpuMaxV2(0.5), "50000 100000");
    assert.equal(cpuMaxV2(undefined), "max 100000");
    assert.equal(cfsQuotaV1(2), "200000");
    assert.equal(cfsQuotaV1(undefined), "-1");
    assert.equal(cfsQuotaV1(0.001), "1000");
  });

  it("maps cpu.weight onto cpu.shares at both ends and the default", () => {
    assert.equal(weightToShares(1), 2);
    assert.equal(weightToShares(10000), 262144);
    assert.ok(Math.abs(weightToShares(100) - 2597) < 2);
  });

  it("parses sizes with binary and decimal units, rejecting junk", () => {
    assert.equal(parseSize("64M"), 64 * 1024 * 1024);
    assert.equal(parseSize("1Gi"), 1024 ** 3);
    assert.equal(parseSize("1GB"), 1e9);
    assert.equal(parseSize("4096"), 4096);
    assert.equal(parseSize("lots"), undefined);
    assert.equal(parseSize("-1M"), undefined);
  });

  it("reads keyed files and both valid and invalid partition states", () => {
    assert.equal(parseKeyedFile("low 0\nhigh 0\noom_kill 3\n").get("oom_kill"), 3);
    assert.deepEqual(parsePartition("root"), { type: "root", valid: true });
    assert.deepEqual(parsePartition("isolated invalid (Cpu list in cpuset.cpus not exclusive)"), {
      type: "isolated",
      valid: false,
      reason: "Cpu list in cpuset.cpus not exclusive",
    });
    assert.deepEqual(parsePartition("root invalid"), { type: "root", valid: false });
  });
});
