import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runOutpost } from "../helpers/run-outpost.js";

describe("outpost buffer", function () {
  this.timeout(60_000);
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-cli-buffer-"));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  const lines = [
    '{"t":1,"v":20.5}',
    '{ "spaced" : true ,"order":"kept"}',
    '"ünïcödé ✓"',
    "",
    "[1,2,3]",
  ];

  it("push appends one record per line and prints the durable count after each commit", () => {
    const dir = join(work, "a");
    const r = runOutpost(["buffer", "push", dir, "--fsync", "always"], {
      input: `${lines.join("\n")}\n`,
    });
    assert.equal(r.status, 0, r.stderr);
    const counts = r.stdout.trim().split("\n").map(Number);
    assert.ok(
      counts.every((n, i) => Number.isInteger(n) && (i === 0 || n > (counts[i - 1] as number))),
      r.stdout,
    );
    assert.equal(counts.at(-1), 4);
    const more = runOutpost(["buffer", "push", dir, "--stream", "alarms"], {
      input: '{"alarm":true}',
    });
    assert.equal(more.status, 0, more.stderr);
    assert.equal(more.stdout, "1\n", "the count is per invocation");
  });

  it("cat prints the undelivered records in append order, byte for byte as pushed", () => {
    const dir = join(work, "a");
    const all = runOutpost(["buffer", "cat", dir]);
    assert.equal(all.status, 0, all.stderr);
    assert.equal(
      all.stdout,
      `${[...lines.filter((l) => l !== ""), '{"alarm":true}'].join("\n")}\n`,
    );
    const alarms = runOutpost(["buffer", "cat", dir, "--stream", "alarms"]);
    assert.equal(alarms.stdout, '{"alarm":true}\n');
  });

  it("stat --json prints one document with backlog, chunks, bytes, oldest age, drops and corruption", () => {
    const r = runOutpost(["buffer", "stat", join(work, "a"), "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const stat = JSON.parse(r.stdout) as Record<string, unknown> & {
      streams: Record<string, unknown>;
    };
    assert.equal(stat.backlogRecords, 5);
    assert.equal(stat.backlogChunks, 2);
    assert.ok((stat.backlogBytes as number) > 0);
    assert.ok((stat.oldestUndeliveredAgeMs as number) >= 0);
    for (const key of ["droppedRecords", "droppedChunks", "corruptChunks", "lostRecords"])
      assert.equal(stat[key], 0, key);
    assert.deepEqual(Object.keys(stat.streams).sort(), ["alarms", "default"]);
    const human = runOutpost(["buffer", "stat", join(work, "a")]);
    assert.match(human.stdout, /^backlog: 5 records in 2 chunks/);
  });

  it("stops at a line that is not JSON with one clear error, after the records before it are durable", () => {
    const dir = join(work, "b");
    const r = runOutpost(["buffer", "push", dir], {
      input: '{"ok":1}\n{"ok":2}\n{oops\n{"ok":4}\n',
    });
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^outpost: stdin line 3: not valid JSON \(.*\); the records before it are pushed, nothing after it was read \[E_BUFFER_INPUT\]\n$/,
    );
    assert.equal(r.stdout.trim().split("\n").at(-1), "2");
    assert.equal(runOutpost(["buffer", "cat", dir]).stdout, '{"ok":1}\n{"ok":2}\n');
  });

  it("refuses bad arguments with exit 2 and a missing buffer directory with exit 1", () => {
    const badFsync = runOutpost(["buffer", "push", join(work, "c"), "--fsync", "sometimes"]);
    assert.equal(badFsync.status, 2);
    assert.match(badFsync.stderr, /sometimes/);
    const badStream = runOutpost(["buffer", "push", join(work, "c"), "--stream", "../etc"]);
    assert.equal(badStream.status, 2);
    assert.match(badStream.stderr, /^outpost: --stream '\.\.\/etc': must match/);
    const missing = runOutpost(["buffer", "cat", join(work, "nothing-here")]);
    assert.equal(missing.status, 1);
    assert.equal(
      missing.stderr,
      `outpost: ${join(work, "nothing-here")} is not a buffer directory (no streams/ in it) [E_BUFFER_INPUT]\n`,
    );
  });
});
