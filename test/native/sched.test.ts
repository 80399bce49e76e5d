import { strict as assert } from "node:assert";
import {
  getAffinity,
  getRlimit,
  getScheduler,
  setAffinity,
  setRlimit,
  setScheduler,
  spawn,
} from "../../native/index.js";

describe("scheduling, affinity and rlimits of another process", function () {
  this.timeout(10_000);

  it("sets and reads back SCHED_RR, SCHED_DEADLINE, affinity and an rlimit on a running child", async () => {
    const child = spawn({ command: "sleep", args: ["30"] });
    try {
      setScheduler(child.pid, { policy: "rr", priority: 7 });
      assert.deepEqual(getScheduler(child.pid), { policy: "rr", priority: 7 });
      setScheduler(child.pid, {
        policy: "deadline",
        runtimeUs: 100,
        deadlineUs: 1000,
        periodUs: 1000,
      });
      assert.deepEqual(getScheduler(child.pid), {
        policy: "deadline",
        runtimeUs: 100,
        deadlineUs: 1000,
        periodUs: 1000,
      });
      setScheduler(child.pid, { policy: "batch", nice: 3 });
      assert.deepEqual(getScheduler(child.pid), { policy: "batch", nice: 3 });
      setAffinity(child.pid, [0]);
      assert.deepEqual(getAffinity(child.pid), [0]);
      setRlimit(child.pid, "nofile", { soft: 64, hard: 128 });
      assert.deepEqual(getRlimit(child.pid, "nofile"), { soft: 64, hard: 128 });
    } finally {
      child.kill("SIGKILL");
      await child.exited;
    }
  });

  it("refuses a real-time policy for Node's own threads", () => {
    assert.throws(() => setScheduler(0, { policy: "fifo", priority: 10 }), /Node's own thread/);
    assert.throws(() => setScheduler(process.pid, { policy: "rr", priority: 10 }), RangeError);
  });

  it("rejects deadline parameters out of the kernel's order before the syscall", () => {
    assert.throws(
      () => setScheduler(1, { policy: "deadline", runtimeUs: 2000, deadlineUs: 1000 }),
      RangeError,
    );
    assert.throws(
      () => setScheduler(1, { policy: "deadline", runtimeUs: 1, deadlineUs: 10 }),
      RangeError,
    );
  });
});
