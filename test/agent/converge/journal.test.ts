import { strict as assert } from "node:assert";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Journal } from "../../../agent/index.js";

describe("agent journal", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-agent-journal-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("survives a reopen with every entry and the last desired state, in a 0600 file", () => {
    const path = join(dir, "journal.json");
    const j = Journal.open(path);
    j.set("e1", {
      software: "/r/software.yaml",
      softwareId: "abc",
      partition: 1,
      parameters: { port: "7000" },
      requested: "started",
      phase: "starting",
      processes: {},
    });
    j.update("e1", { phase: "started", processes: { server: { pid: 42, startTicks: 7 } } });
    j.setDesired({ software: ["/r/software.yaml"], instances: [] });
    const again = Journal.open(path);
    assert.equal(again.get("e1")?.phase, "started");
    assert.deepEqual(again.get("e1")?.processes, { server: { pid: 42, startTicks: 7 } });
    assert.deepEqual(again.desired, { software: ["/r/software.yaml"], instances: [] });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ["journal.json"], "no temporary file left");
    again.delete("e1");
    assert.deepEqual(Journal.open(path).names(), []);
  });

  it("works in a data directory an operator reached through a symlink (--data on another disk)", () => {
    mkdirSync(join(dir, "real"));
    symlinkSync(join(dir, "real"), join(dir, "link"));
    Journal.open(join(dir, "link", "journal.json")).setDesired({ software: [], instances: [] });
    assert.deepEqual(readdirSync(join(dir, "real")), ["journal.json"]);
  });

  it("refuses a corrupt journal with a clear error instead of starting from nothing", () => {
    const path = join(dir, "journal.json");
    writeFileSync(path, "{ torn");
    assert.throws(() => Journal.open(path), {
      code: "E_AGENT_DATA_DIR",
      message: /journal\.json: unreadable journal/,
    });
  });
});
