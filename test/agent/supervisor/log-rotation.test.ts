import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pino } from "pino";
import { rotateLog } from "../../../agent/supervisor/log-rotation.js";
import { LogWatcher } from "../../../agent/supervisor/log-watcher.js";
import { spawn, type WatchedProcess } from "../../../native/index.js";
import { until } from "../../helpers/until.js";

/** A logger that keeps every event it is given. */
function recorder(): { logger: pino.Logger; events: Record<string, unknown>[] } {
  const events: Record<string, unknown>[] = [];
  const logger = pino(
    { level: "debug" },
    { write: (line: string) => events.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, events };
}

/** A program appending to `file` with O_APPEND, as a supervised process does. */
function writer(file: string, command: string, args: string[]): WatchedProcess {
  return spawn({
    command,
    args,
    stdio: ["ignore", { file, append: true }, "inherit"],
  });
}

const sizeOf = (path: string) => (existsSync(path) ? statSync(path).size : 0);

describe("log rotation by collapse-range (real files, real writers)", function () {
  this.timeout(60_000);
  let dir: string;
  const children: WatchedProcess[] = [];
  beforeEach(() => {
    // /tmp is ext4 here: collapse-range works.
    dir = mkdtempSync(join(tmpdir(), "outpost-logrot-"));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) {
      c.kill("SIGKILL");
      await c.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("loses no line of a writer appending a line per write at full speed while its log is rotated again and again", async () => {
    const log = join(dir, "lines.log");
    const count = 1_000_000;
    // One write(2) per line, as fast as python makes them (~1 s here).
    const child = writer(log, "/usr/bin/python3", [
      "-c",
      `import os\nfor i in range(1, ${count + 1}): os.write(1, b"%d\\n" % i)`,
    ]);
    children.push(child);
    let done = false;
    void child.exited.then(() => {
      done = true;
    });
    const kept: string[] = [];
    let rotations = 0;
    while (!done) {
      const outcome = await rotateLog(
        log,
        { maxBytes: 64 * 1024, keep: 1 },
        { copyLimit: Number.POSITIVE_INFINITY },
      );
      if (outcome.rotated) {
        assert.equal(outcome.method, "collapse");
        assert.equal(outcome.dropped, 0);
        rotations++;
        // Each head set aside at once, so nothing is replaced by the next rotation.
        const aside = join(dir, `kept-${String(rotations).padStart(6, "0")}`);
        renameSync(`${log}.1`, aside);
        kept.push(aside);
      }
      // A log under its size resolves without I/O: let the loop see the writer's exit.
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(await child.exited, { code: 0, signal: null });
    assert.ok(rotations >= 5, `rotated ${rotations} times while it wrote`);
    const all = Buffer.concat([...kept, log].map((f) => readFileSync(f)));
    const expected = execFileSync("seq", ["1", String(count)], { maxBuffer: 1 << 26 });
    assert.equal(all.length, expected.length, "as many bytes as were written");
    assert.ok(all.equals(expected), "every line, in order, none twice");
  });

  it("keeps `keep` files, the newest as .1, and drops the oldest", async () => {
    const log = join(dir, "app.log");
    let written = "";
    for (const round of [1, 2, 3]) {
      const text = `${String(round).repeat(9000)}\n`;
      writeFileSync(log, text, { flag: "a" });
      written += text;
      const outcome = await rotateLog(log, { maxBytes: 4096, keep: 2 });
      assert.equal(outcome.rotated, true);
    }
    assert.deepEqual(readdirSync(dir).sort(), ["app.log", "app.log.1", "app.log.2"]);
    const kept = [`${log}.2`, `${log}.1`, log].map((f) => readFileSync(f, "utf8")).join("");
    assert.ok(written.endsWith(kept), ".2, .1 and the log are the newest of what was written");
    assert.ok(kept.length < written.length, "the oldest rotation is gone");
    assert.match(readFileSync(`${log}.1`, "utf8"), /3/);
  });

  it("copies at most 2 × maxBytes of the head, the newest, and says how much it dropped", async () => {
    const log = join(dir, "sparse.log");
    writeFileSync(log, "start\n");
    truncateSync(log, 1 << 30); // a process may ftruncate its own log: 1 GiB of hole
    writeFileSync(log, "end\n", { flag: "a" });
    const outcome = await rotateLog(log, { maxBytes: 64 * 1024, keep: 1 });
    assert.ok(outcome.rotated);
    assert.equal(outcome.kept, 128 * 1024);
    assert.equal(outcome.kept + outcome.dropped, (1 << 30) + 4 - (((1 << 30) + 4) % 4096));
    assert.equal(statSync(`${log}.1`).size, 128 * 1024);
    assert.equal(readFileSync(log, "utf8"), "end\n");
  });

  it("leaves a symlink or a FIFO at the log's name alone and says so", async () => {
    const target = join(dir, "secret");
    writeFileSync(target, "x".repeat(10_000));
    symlinkSync(target, join(dir, "link.log"));
    execFileSync("mkfifo", [join(dir, "fifo.log")]);
    for (const name of ["link.log", "fifo.log"]) {
      const outcome = await rotateLog(join(dir, name), { maxBytes: 10, keep: 1 });
      assert.equal(outcome.rotated, false);
      assert.match((outcome as { refused?: string }).refused ?? "", /not a regular file/);
    }
    assert.equal(statSync(target).size, 10_000, "the link's target untouched");
    assert.ok(!existsSync(join(dir, "link.log.1")));
  });

  it("falls back to copy-then-truncate where collapse is unsupported (tmpfs)", async () => {
    const shm = mkdtempSync("/dev/shm/outpost-logrot-");
    try {
      const log = join(shm, "app.log");
      writeFileSync(log, "a\n".repeat(10_000));
      const outcome = await rotateLog(log, { maxBytes: 16_384, keep: 1 });
      assert.deepEqual(outcome, {
        rotated: true,
        method: "copy-truncate",
        size: 20_000,
        kept: 20_000,
        dropped: 0,
      });
      assert.equal(readFileSync(`${log}.1`, "utf8"), "a\n".repeat(10_000));
      assert.equal(statSync(log).size, 0);
    } finally {
      rmSync(shm, { recursive: true, force: true });
    }
  });

  it("gives .1 the log's owner and mode", async () => {
    const log = join(dir, "owned.log");
    writeFileSync(log, "z".repeat(9000));
    chmodSync(log, 0o640);
    execFileSync("chown", ["65534:65534", log]);
    await rotateLog(log, { maxBytes: 4096, keep: 1 });
    const st = statSync(`${log}.1`);
    assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [65534, 65534, 0o640]);
  });
});

describe("log watcher (rotation by size, independent of the converge pass)", function () {
  this.timeout(60_000);
  let dir: string;
  const children: WatchedProcess[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-logwatch-"));
    mkdirSync(join(dir, "logs"));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) {
      c.kill("SIGKILL");
      await c.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("rotates a log within about a second of it crossing its size", async () => {
    const log = join(dir, "logs", "app.log");
    writeFileSync(log, "");
    const { logger } = recorder();
    const watcher = new LogWatcher({
      files: () => [log],
      rotation: { maxBytes: 8192, keep: 2 },
      logger,
    });
    watcher.start();
    try {
      await sleep(300);
      const crossedAt = Date.now();
      writeFileSync(log, "y\n".repeat(8000), { flag: "a" });
      await until(() => existsSync(`${log}.1`), 5000, "rotated");
      const tookMs = Date.now() - crossedAt;
      assert.ok(tookMs < 1500, `rotated ${tookMs} ms after crossing`);
    } finally {
      watcher.stop();
    }
  });

  it("keeps a flood (yes at full speed) bounded while the writer keeps running; says what it dropped", async () => {
    const log = join(dir, "logs", "yes.log");
    const { logger, events } = recorder();
    const rotation = { maxBytes: 1024 * 1024, keep: 3 };
    const watcher = new LogWatcher({ files: () => [log], rotation, logger });
    const child = writer(log, "yes", ["flood"]);
    children.push(child);
    watcher.start();
    let peak = 0;
    try {
      const until = Date.now() + 5000;
      while (Date.now() < until) {
        const total = [log, ...[1, 2, 3, 4].map((n) => `${log}.${n}`)].reduce(
          (sum, f) => sum + sizeOf(f),
          0,
        );
        peak = Math.max(peak, total);
        await sleep(20);
      }
    } finally {
      watcher.stop();
    }
    assert.ok(!existsSync(`${log}.4`), "no more than keep files");
    assert.ok(readFileSync(`/proc/${child.pid}/status`, "utf8").includes("State:"), "yes runs on");
    const flood = events.filter((e) => e.msg === "log.flood");
    assert.ok(flood.length > 0 && flood.every((e) => Number(e.droppedBytes) > 0), "drops said");
    for (const n of [1, 2, 3])
      assert.ok(sizeOf(`${log}.${n}`) <= 2 * rotation.maxBytes, `.${n} holds 2 × maxBytes at most`);
    // Rotated files hold 2 × maxBytes each at most; the log, maxBytes plus what the
    // writer adds between a write and the end of the rotation it triggers (≈ 100 ms:
    // ~80 MiB for yes at ~800 MB/s on this box), given 256 MiB here.
    const bound = rotation.keep * 2 * rotation.maxBytes + rotation.maxBytes + 256 * 1024 * 1024;
    assert.ok(peak < bound, `peak ${peak} bytes under ${bound}`);
  });
});
