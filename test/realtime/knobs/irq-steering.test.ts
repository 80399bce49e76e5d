import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCpuList } from "../../../native/index.js";
import { irqAffinityPath, KnobJournal, listIrqs, steerIrqsOff } from "../../../realtime/index.js";

const affinity = (irq: number) => parseCpuList(readFileSync(irqAffinityPath(irq), "utf8"));

describe("realtime IRQ steering on this machine's /proc/irq", () => {
  let dir: string;
  let journal: KnobJournal;
  let before: Map<number, number[]>;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-irq-"));
    journal = new KnobJournal(join(dir, "knobs.json"));
    before = new Map(listIrqs().map((irq) => [irq, affinity(irq)]));
  });
  afterEach(() => {
    // Puts every IRQ back even when an assertion failed half-way.
    journal.recover();
    rmSync(dir, { recursive: true, force: true });
  });

  it("moves every movable IRQ off cpu 1 while held and restores each original affinity on release", () => {
    const onCpu1 = [...before].filter(([, cpus]) => cpus.includes(1)).map(([irq]) => irq);
    assert.ok(onCpu1.length > 0, "this test needs IRQs that may land on cpu 1");
    const result = steerIrqsOff(journal, "plc", [1], [0]);
    assert.deepEqual(
      [...result.moved, ...result.unmovable.map((u) => u.irq)].sort((a, b) => a - b),
      onCpu1,
    );
    assert.ok(result.moved.length > 0, "no IRQ could be moved");
    for (const irq of result.moved) assert.deepEqual(affinity(irq), [0], `IRQ ${irq}`);
    assert.deepEqual(journal.release("plc"), []);
    for (const [irq, cpus] of before) assert.deepEqual(affinity(irq), cpus, `IRQ ${irq} restored`);
  });

  it("refuses to steer without a housekeeping CPU to steer to", () => {
    assert.throws(() => steerIrqsOff(journal, "plc", [0, 1], []), RangeError);
  });
});
