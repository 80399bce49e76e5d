import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  encodeRecord,
  openBufferOutput,
  recordToJsonLine,
  type TelemetryRecord,
} from "../../collector/index.js";
import { quietLogger } from "../collector/fixtures.js";
import { repoRoot, runOutpost } from "../helpers/run-outpost.js";

/** The CLI's stdout as bytes (raw Avro is not text). */
function outpostBytes(args: readonly string[]): { status: number | null; stdout: Buffer } {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", join(repoRoot, "cli", "main.ts"), ...args],
    {
      cwd: repoRoot,
      timeout: 60_000,
    },
  );
  return { status: r.status, stdout: r.stdout };
}

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

  describe("on a buffer the collector wrote", () => {
    const t0 = Date.parse("2026-03-01T12:00:00.000Z");
    const records: TelemetryRecord[] = [
      {
        device: "plc",
        tag: "energy_wh",
        ts: t0,
        value: 18446744073709551614n,
        quality: "good",
        unit: "Wh",
      },
      { device: "plc", tag: "counter", ts: t0 + 1, value: -(2n ** 63n), quality: "good" },
      { device: "plc", tag: "rpm", ts: t0 + 2, value: 12.5, quality: "good", unit: "rpm" },
      { device: "plc", tag: "running", ts: t0 + 3, value: true, quality: "good" },
      { device: "nacelle", tag: "state", ts: t0 + 4, value: "ünïcödé\nline", quality: "good" },
      { device: "nacelle", tag: "wind", ts: t0 + 5, value: null, quality: "comm_error" },
    ];
    let dir: string;
    before(async () => {
      dir = join(work, "collector");
      const output = await openBufferOutput(dir, "telemetry", quietLogger);
      await output.write(records.slice(0, 3));
      await output.write(records.slice(3));
      await output.close();
      // A stream of pushed NDJSON beside it keeps printing as pushed.
      const pushed = runOutpost(["buffer", "push", dir, "--stream", "notes"], {
        input: '{"n":1}\n',
      });
      assert.equal(pushed.status, 0);
    });

    it("cat decodes the collector's records to NDJSON, the form of `collector read --json` (64-bit integers as decimal strings)", () => {
      const r = runOutpost(["buffer", "cat", dir, "--stream", "telemetry"]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, records.map((x) => `${recordToJsonLine(x)}\n`).join(""));
      const first = JSON.parse(r.stdout.split("\n")[0] as string) as Record<string, unknown>;
      assert.equal(first.value, "18446744073709551614");
      const all = runOutpost(["buffer", "cat", dir]);
      assert.equal(all.status, 0, all.stderr);
      assert.deepEqual(all.stdout.trimEnd().split("\n").slice(-1), ['{"n":1}']);
      assert.equal(all.stdout.trimEnd().split("\n").length, records.length + 1);
    });

    it("cat --raw prints each record's stored bytes (Avro), one per line", () => {
      const r = outpostBytes(["buffer", "cat", dir, "--stream", "telemetry", "--raw"]);
      assert.equal(r.status, 0);
      const newline = Buffer.from("\n");
      assert.ok(r.stdout.equals(Buffer.concat(records.flatMap((x) => [encodeRecord(x), newline]))));
    });
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
