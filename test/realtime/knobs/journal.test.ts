import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KnobJournal, KnobJournalCorruptError, RT_RUNTIME_KNOB } from "../../../realtime/index.js";

const readKnob = (path: string) => readFileSync(path, "utf8").trim();

describe("realtime knob journal", function () {
  this.timeout(20_000);
  let dir: string;
  let journalFile: string;
  let knob: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-knobs-"));
    journalFile = join(dir, "state", "knobs.json");
    knob = join(dir, "governor");
    writeFileSync(knob, "powersave\n");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("journals the original before the change and restores it when the last owner releases (files stand in for sysfs knobs)", () => {
    const journal = new KnobJournal(journalFile);
    journal.change(knob, "performance", "gnb-a");
    assert.deepEqual(journal.entries(), [{ path: knob, original: "powersave", owners: ["gnb-a"] }]);
    journal.change(knob, "performance", "gnb-b");
    assert.deepEqual(journal.release("gnb-a"), []);
    assert.equal(readKnob(knob), "performance");
    assert.deepEqual(journal.release("gnb-b"), []);
    assert.equal(readKnob(knob), "powersave");
    assert.deepEqual(journal.entries(), []);
  });

  it("forgets a claim whose write failed, so release does not restore what never changed", () => {
    const journal = new KnobJournal(journalFile);
    assert.throws(() => journal.change(join(dir, "missing"), "1", "x"), { code: "ENOENT" });
    assert.deepEqual(journal.entries(), []);
  });

  it("refuses a journal it cannot read instead of guessing originals", () => {
    const journal = new KnobJournal(journalFile);
    journal.change(knob, "performance", "a");
    writeFileSync(journalFile, '{"not": "a list"}');
    assert.throws(
      () => journal.recover(),
      (err: unknown) => err instanceof KnobJournalCorruptError && err.code === "E_RT_JOURNAL",
    );
  });

  it("restores RT throttling at the next start after the process holding the change was killed with SIGKILL", async () => {
    const original = readKnob(RT_RUNTIME_KNOB);
    const changed = original === "-1" ? "950000" : "-1";
    const holder = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(import.meta.dirname, "..", "..", "helpers", "rt-knob-holder.ts"),
        journalFile,
        RT_RUNTIME_KNOB,
        changed,
        "gnb",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      const [line] = (await once(holder.stdout, "data")) as [Buffer];
      assert.equal(line.toString(), "changed\n");
      assert.equal(readKnob(RT_RUNTIME_KNOB), changed);
      holder.kill("SIGKILL");
      await once(holder, "exit");
      assert.equal(readKnob(RT_RUNTIME_KNOB), changed, "nobody restored it: the holder died");
      assert.deepEqual(new KnobJournal(journalFile).recover(), []);
      assert.equal(readKnob(RT_RUNTIME_KNOB), original);
      assert.deepEqual(new KnobJournal(journalFile).entries(), []);
    } finally {
      holder.kill("SIGKILL");
      if (readKnob(RT_RUNTIME_KNOB) !== original) writeFileSync(RT_RUNTIME_KNOB, original);
    }
  });
});
