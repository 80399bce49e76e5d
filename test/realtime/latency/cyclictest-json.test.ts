import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CyclictestOutputError, parseCyclictestJson } from "../../../realtime/index.js";

// Written by cyclictest 2.40 (Debian 12 rt-tests) on this test VM:
// cyclictest -m -q -a 1 -t1 -p 80 -i 1000 -l 300 -h 100 --json=FILE
const SAMPLE = JSON.stringify({
  file_version: 1,
  "rt_test_version:": "2.40",
  num_threads: 1,
  thread: {
    "0": {
      histogram: {
        "18": 1,
        "21": 1,
        "22": 1,
        "23": 2,
        "24": 4,
        "25": 9,
        "26": 13,
        "27": 22,
        "28": 22,
        "29": 32,
        "30": 30,
        "31": 27,
        "32": 18,
        "33": 20,
        "34": 19,
        "35": 9,
        "36": 10,
        "37": 6,
        "38": 7,
        "39": 6,
        "40": 2,
        "41": 7,
        "42": 2,
        "43": 1,
        "44": 2,
        "45": 4,
        "46": 5,
        "47": 2,
        "48": 2,
        "49": 1,
        "55": 3,
        "59": 1,
        "92": 1,
      },
      cycles: 300,
      min: 18,
      max: 2214,
      avg: 60.55,
      cpu: 1,
      node: 0,
    },
  },
});

describe("realtime cyclictest-json", () => {
  it("reads each thread's figures, sorted histogram and overflow (cycles beyond -h)", () => {
    const [t, ...rest] = parseCyclictestJson(SAMPLE);
    assert.equal(rest.length, 0);
    assert.ok(t);
    assert.deepEqual(
      { ...t, histogram: t.histogram.length },
      {
        thread: 0,
        cpu: 1,
        samples: 300,
        min: 18,
        avg: 60.55,
        max: 2214,
        overflow: 8,
        histogram: 33,
      },
    );
    assert.deepEqual(t.histogram[0], [18, 1]);
    assert.deepEqual(t.histogram.at(-1), [92, 1]);
  });

  it("refuses output it does not know with a typed error saying what is wrong", () => {
    const bad = (text: string, reason: RegExp) =>
      assert.throws(
        () => parseCyclictestJson(text),
        (e: unknown) =>
          e instanceof CyclictestOutputError &&
          e.code === "E_CYCLICTEST_OUTPUT" &&
          reason.test(e.message),
      );
    bad("T: 0 ( 123) P:80", /not JSON/);
    bad("{}", /no 'thread' object/);
    bad(
      '{"thread":{"0":{"cycles":1,"min":1,"max":1,"avg":1,"cpu":0}}}',
      /histogram missing \(run cyclictest with -h\)/,
    );
    bad(
      '{"thread":{"0":{"histogram":{},"min":1,"max":1,"avg":1,"cpu":0}}}',
      /thread\.0\.cycles is not a number/,
    );
  });

  it("reads what the installed cyclictest writes", function () {
    this.timeout(10_000);
    const dir = mkdtempSync(join(tmpdir(), "outpost-cyclictest-"));
    try {
      const file = join(dir, "out.json");
      const r = spawnSync(
        "cyclictest",
        [
          "-q",
          "-t1",
          "-a",
          "0",
          "-p",
          "50",
          "-i",
          "500",
          "-l",
          "100",
          "-h",
          "200",
          `--json=${file}`,
        ],
        { encoding: "utf8" },
      );
      assert.equal(r.status, 0, r.stderr);
      const [t] = parseCyclictestJson(readFileSync(file, "utf8"));
      assert.ok(t);
      assert.equal(t.cpu, 0);
      assert.equal(t.samples, 100);
      assert.ok(t.min <= t.avg && t.avg <= t.max);
      assert.equal(
        t.histogram.reduce((n, [, c]) => n + c, 0),
        t.samples - t.overflow,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
