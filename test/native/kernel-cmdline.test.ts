import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import {
  parseKernelCmdline,
  RT_KERNEL_PARAMETERS,
  readKernelRtParameters,
  rtParametersOf,
} from "../../native/index.js";

// Samples: a Debian 12 box tuned for a 5G gNodeB on the RT kernel, and this test VM's
// own command line, whose words after "--" go to init.
const TUNED_RT =
  'BOOT_IMAGE=/boot/vmlinuz-6.1.0-21-rt-amd64 root=UUID=0f4c ro quiet isolcpus=managed_irq,domain,2-7 nohz_full=2-7 rcu_nocbs=2-7 rcu_nocb_poll irqaffinity=0-1 threadirqs skew_tick=1 intel_idle.max_cstate=0 processor.max_cstate=1 idle=poll nosoftlockup tsc=reliable nmi_watchdog=0 rcutree.kthread_prio=11 dyndbg="module foo +p"\n';
const FIRECRACKER =
  "console=ttyS0 quiet reboot=k panic=1 nomodule rdinit=/process_api -- --firecracker-init --addr 0.0.0.0:2024 --nohz_full=1\n";

describe("native kernel-cmdline", () => {
  it("splits words, keeps quoted spaces and tells flags from key=value", () => {
    const params = parseKernelCmdline(TUNED_RT);
    assert.deepEqual(
      params.find((p) => p.key === "dyndbg"),
      {
        key: "dyndbg",
        value: "module foo +p",
      },
    );
    assert.deepEqual(
      params.find((p) => p.key === "threadirqs"),
      { key: "threadirqs", value: null },
    );
    assert.deepEqual(
      params.find((p) => p.key === "isolcpus"),
      {
        key: "isolcpus",
        value: "managed_irq,domain,2-7",
      },
    );
  });

  it("extracts every RT parameter of a tuned RT box and nothing else", () => {
    assert.deepEqual(rtParametersOf(parseKernelCmdline(TUNED_RT)), {
      isolcpus: "managed_irq,domain,2-7",
      nohz_full: "2-7",
      rcu_nocbs: "2-7",
      rcu_nocb_poll: true,
      irqaffinity: "0-1",
      threadirqs: true,
      skew_tick: "1",
      "intel_idle.max_cstate": "0",
      "processor.max_cstate": "1",
      idle: "poll",
      nosoftlockup: true,
      tsc: "reliable",
      nmi_watchdog: "0",
      "rcutree.kthread_prio": "11",
    });
  });

  it("ignores the words after '--', which belong to init", () => {
    assert.deepEqual(rtParametersOf(parseKernelCmdline(FIRECRACKER)), {});
  });

  it("treats '-' and '_' alike in names and keeps the last of repeated parameters", () => {
    assert.deepEqual(rtParametersOf(parseKernelCmdline("nohz-full=1 nohz_full=2-3")), {
      nohz_full: "2-3",
    });
  });

  it("reads this kernel's /proc/cmdline: each reported parameter is on it", () => {
    const cmdline = readFileSync("/proc/cmdline", "utf8");
    const found = readKernelRtParameters();
    for (const [name, value] of Object.entries(found)) {
      assert.ok(RT_KERNEL_PARAMETERS.includes(name));
      assert.ok(cmdline.includes(value === true ? name : `${name}=${value}`), name);
    }
    assert.deepEqual(found, rtParametersOf(parseKernelCmdline(cmdline)));
  });
});
