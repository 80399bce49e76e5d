import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseChunk } from "../../buffer/index.js";
import { bundleCli } from "../helpers/bundled-cli.js";

/**
 * Fault (1): `outpost buffer push` killed with SIGKILL at random moments, 200 times, on
 * one buffer directory. The durable counts each run printed are the truth. Afterwards
 * the buffer holds, per run and in order, exactly the first `reported` records of that
 * run, optionally followed by more records of the same run — only ever the very next
 * ones pushed (written, but killed before they were reported) — and nothing else: no
 * duplicate, no reordering, no record of another run in between, no garbage.
 */
const CYCLES = 200;
const LINES_PER_CYCLE = 100_000;
const POLICIES = ["always", "batch", "never"] as const;

function line(cycle: number, i: number): string {
  return JSON.stringify({ c: cycle, i, pad: "x".repeat((cycle * 7 + i) % 40) });
}

describe("fault: kill -9 during buffer push", function () {
  this.timeout(300_000);
  let cli: { path: string; remove(): void };
  let work: string;

  before(async () => {
    cli = await bundleCli();
    work = mkdtempSync(join(tmpdir(), "outpost-kill9-"));
  });

  after(() => {
    cli?.remove();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it(`keeps every record reported durable exactly once and in order through ${CYCLES} kill -9 cycles`, async () => {
    const dir = join(work, "buf");
    const streamDir = join(dir, "streams", "default");
    const seen = new Set<string>();
    const expected: string[] = [];
    let lastSeq = 0;
    let killedBeforeAnyReport = 0;
    let totalReported = 0;
    let totalExtra = 0;

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const policy = POLICIES[cycle % POLICIES.length] as string;
      const child = spawn(process.execPath, [cli.path, "buffer", "push", dir, "--fsync", policy], {
        stdio: ["pipe", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString("utf8");
      });
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString("utf8");
      });
      child.stdin.on("error", () => undefined);
      // Fed in slices, as a collector would, so a run makes many small commits.
      let fed = 0;
      const feeder = setInterval(() => {
        if (fed >= LINES_PER_CYCLE || !child.stdin.writable) return clearInterval(feeder);
        let slice = "";
        for (const end = fed + 20; fed < end; fed++) slice += `${line(cycle, fed)}\n`;
        child.stdin.write(slice);
      }, 2);
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      // Most kills land while records stream in; one in six during start-up and recovery.
      if (cycle % 6 !== 0) {
        await new Promise<void>((resolve) => {
          child.stdout.once("data", () => resolve());
          setTimeout(resolve, 3000);
        });
      }
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 200)));
      child.kill("SIGKILL");
      await exited;
      clearInterval(feeder);

      // Only complete lines count: a report cut by the kill was never seen by anyone.
      const reports = out.split("\n").slice(0, -1).map(Number);
      for (const [k, n] of reports.entries()) {
        assert.ok(Number.isInteger(n), `cycle ${cycle}: bad report line ${JSON.stringify(out)}`);
        assert.ok(k === 0 || n >= (reports[k - 1] as number), `cycle ${cycle}: count went down`);
      }
      const reported = reports.at(-1) ?? 0;
      if (reported === 0) killedBeforeAnyReport++;
      totalReported += reported;

      // Read only the chunks this run created; earlier ones were verified already.
      const fresh = (existsSync(streamDir) ? readdirSync(streamDir) : [])
        .filter((n) => n.endsWith(".chunk") && !seen.has(n))
        .sort();
      const got: string[] = [];
      for (const name of fresh) {
        const buf = readFileSync(join(streamDir, name));
        const parsed = parseChunk(buf, 1 << 20);
        assert.deepEqual(
          parsed.scan.damaged,
          [],
          `cycle ${cycle}: ${name} has damage in the middle`,
        );
        for (const f of parsed.scan.records) {
          assert.ok(f.seq > lastSeq, `cycle ${cycle}: sequence ${f.seq} after ${lastSeq}`);
          lastSeq = f.seq;
          got.push(buf.toString("utf8", f.payloadStart, f.payloadEnd));
        }
        seen.add(name);
      }
      assert.ok(
        got.length >= reported,
        `cycle ${cycle} (${policy}): ${reported} reported durable but only ${got.length} present; stderr: ${err}`,
      );
      assert.ok(got.length <= fed, `cycle ${cycle}: more records than lines fed`);
      for (const [i, record] of got.entries()) {
        assert.equal(
          record,
          line(cycle, i),
          `cycle ${cycle}: record ${i} is not the ${i}th line pushed`,
        );
      }
      totalExtra += got.length - reported;
      expected.push(...got);
    }

    // Every run started from the previous run's wreck; most were killed mid-stream.
    assert.ok(totalReported > 0 && killedBeforeAnyReport < CYCLES);

    // The real `cat` over everything sees the same, and the buffer reports no damage.
    const cat = spawnSync(process.execPath, [cli.path, "buffer", "cat", dir], {
      encoding: "utf8",
      maxBuffer: 1 << 30,
    });
    assert.equal(cat.status, 0, cat.stderr);
    const catted = cat.stdout.split("\n").slice(0, -1);
    assert.equal(catted.length, expected.length);
    assert.ok(
      catted.every((l, i) => l === expected[i]),
      "cat differs from the verified records",
    );
    const stat = spawnSync(process.execPath, [cli.path, "buffer", "stat", dir, "--json"], {
      encoding: "utf8",
    });
    const doc = JSON.parse(stat.stdout) as { corruptChunks: number; backlogRecords: number };
    assert.equal(doc.corruptChunks, 0);
    assert.equal(doc.backlogRecords, expected.length);
    console.log(
      `      ${CYCLES} kills: ${totalReported} records reported durable, ${totalExtra} more present unreported, ${killedBeforeAnyReport} runs killed before their first report`,
    );
  });
});
