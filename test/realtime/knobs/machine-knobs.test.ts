import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  governorPath,
  KnobJournal,
  liftRtThrottling,
  RT_RUNTIME_KNOB,
  setGovernors,
} from "../../../realtime/index.js";

const read = (path: string) => readFileSync(path, "utf8").trim();

describe("realtime machine-wide knobs", () => {
  let dir: string;
  let journal: KnobJournal;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-machine-knobs-"));
    journal = new KnobJournal(join(dir, "knobs.json"));
  });
  afterEach(() => {
    journal.recover();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lifts RT throttling on this machine while an owner holds it and puts the throttle back on release", () => {
    const original = read(RT_RUNTIME_KNOB);
    try {
      liftRtThrottling(journal, "gnb");
      assert.equal(read(RT_RUNTIME_KNOB), "-1");
      assert.deepEqual(journal.release("gnb"), []);
      assert.equal(read(RT_RUNTIME_KNOB), original);
    } finally {
      if (read(RT_RUNTIME_KNOB) !== original) writeFileSync(RT_RUNTIME_KNOB, original);
    }
  });

  it("pins the governor of CPUs that have cpufreq, skips the others, restores on release (temp dir laid out like sysfs: this VM has no cpufreq)", () => {
    const sys = join(dir, "sys");
    mkdirSync(join(sys, "cpu", "cpu0", "cpufreq"), { recursive: true });
    mkdirSync(join(sys, "cpu", "cpu1"), { recursive: true });
    writeFileSync(governorPath(0, sys), "schedutil\n");
    assert.deepEqual(setGovernors(journal, "plc", [0, 1], "performance", sys), [0]);
    assert.equal(read(governorPath(0, sys)), "performance");
    journal.release("plc");
    assert.equal(read(governorPath(0, sys)), "schedutil");
  });
});
