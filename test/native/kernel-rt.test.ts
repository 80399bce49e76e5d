import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { release, tmpdir, version } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  kernelConfigSaysRt,
  preemptRtOf,
  readPreemptRt,
  realtimeFlagSaysRt,
  unameVersionSaysRt,
} from "../../native/index.js";

describe("native kernel-rt", () => {
  it("reads PREEMPT_RT in uname -v of RT kernels old and new, not PREEMPT or PREEMPT_DYNAMIC", () => {
    assert.equal(unameVersionSaysRt("#1 SMP PREEMPT_RT Debian 6.1.90-1 (2024-05-03)"), true);
    assert.equal(unameVersionSaysRt("#1 SMP PREEMPT RT Tue Jan 7 10:14:05 UTC 2020"), true);
    assert.equal(unameVersionSaysRt("#1 SMP PREEMPT_DYNAMIC Debian 6.1.90-1"), false);
    assert.equal(unameVersionSaysRt("#1 SMP PREEMPT Wed Mar 1 2023"), false);
  });

  it("reads CONFIG_PREEMPT_RT=y (and CONFIG_PREEMPT_RT_FULL=y of pre-5.3 patches) only when set", () => {
    assert.equal(kernelConfigSaysRt("CONFIG_PREEMPT_BUILD=y\nCONFIG_PREEMPT_RT=y\n"), true);
    assert.equal(kernelConfigSaysRt("CONFIG_PREEMPT_RT_FULL=y\n"), true);
    assert.equal(kernelConfigSaysRt("# CONFIG_PREEMPT_RT is not set\nCONFIG_PREEMPT=y\n"), false);
    assert.equal(kernelConfigSaysRt(null), null);
  });

  it("reads /sys/kernel/realtime as 1 = RT and a missing file as no evidence", () => {
    assert.equal(realtimeFlagSaysRt("1\n"), true);
    assert.equal(realtimeFlagSaysRt("0\n"), false);
    assert.equal(realtimeFlagSaysRt(null), null);
  });

  it("says RT when any one signal does, since each may be missing on a real RT kernel", () => {
    const none = { sysKernelRealtime: null, unameVersion: false, kernelConfig: null };
    assert.equal(preemptRtOf(none, null).verdict, false);
    assert.equal(preemptRtOf({ ...none, sysKernelRealtime: true }, null).verdict, true);
    assert.equal(preemptRtOf({ ...none, unameVersion: true }, null).verdict, true);
    assert.equal(preemptRtOf({ ...none, kernelConfig: true }, "/boot/config-x").verdict, true);
  });

  it("reads the running kernel's three signals as the kernel itself exposes them", () => {
    const rt = readPreemptRt({ release: release(), version: version() });
    const flag = "/sys/kernel/realtime";
    assert.equal(
      rt.signals.sysKernelRealtime,
      existsSync(flag) ? readFileSync(flag, "utf8").trim() === "1" : null,
    );
    assert.equal(rt.signals.unameVersion, /PREEMPT[_ ]RT/.test(version()));
    if (existsSync("/proc/config.gz")) {
      const zgrep = spawnSync(
        "sh",
        ["-c", "zcat /proc/config.gz | grep -c '^CONFIG_PREEMPT_RT=y$'"],
        {
          encoding: "utf8",
        },
      );
      assert.equal(rt.signals.kernelConfig, zgrep.stdout.trim() === "1");
      assert.equal(rt.kernelConfigSource, "/proc/config.gz");
    }
    assert.equal(
      rt.verdict,
      rt.signals.sysKernelRealtime === true ||
        rt.signals.unameVersion ||
        rt.signals.kernelConfig === true,
    );
  });

  describe("kernel config sources", () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "outpost-kernel-rt-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const paths = (d: string) => ({
      sysKernelRealtime: join(d, "realtime"),
      procConfigGz: join(d, "config.gz"),
      bootConfig: (r: string) => join(d, `config-${r}`),
    });

    it("gunzips /proc/config.gz when the kernel exposes it", () => {
      writeFileSync(join(dir, "config.gz"), gzipSync("CONFIG_PREEMPT_RT=y\n"));
      const rt = readPreemptRt({ release: "6.1.0-21-rt-amd64", version: "#1 SMP" }, paths(dir));
      assert.deepEqual(rt.signals, {
        sysKernelRealtime: null,
        unameVersion: false,
        kernelConfig: true,
      });
      assert.equal(rt.kernelConfigSource, join(dir, "config.gz"));
      assert.equal(rt.verdict, true);
    });

    it("falls back to /boot/config-<release> and reports which file it read", () => {
      writeFileSync(join(dir, "config-6.1.0-21-rt-amd64"), "CONFIG_PREEMPT_RT=y\n");
      const rt = readPreemptRt({ release: "6.1.0-21-rt-amd64", version: "#1 SMP" }, paths(dir));
      assert.equal(rt.signals.kernelConfig, true);
      assert.equal(rt.kernelConfigSource, join(dir, "config-6.1.0-21-rt-amd64"));
    });

    it("reports no config as null, not as 'not RT'", () => {
      const rt = readPreemptRt({ release: "6.1.0", version: "#1 SMP PREEMPT_RT" }, paths(dir));
      assert.equal(rt.signals.kernelConfig, null);
      assert.equal(rt.kernelConfigSource, null);
      assert.equal(rt.verdict, true);
    });
  });
});
