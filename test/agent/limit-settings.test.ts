import { strict as assert } from "node:assert";
import { limitSettingsOf, mergeLimitWords, parseLimitFlag } from "../../agent/limit-settings.js";

describe("agent limit settings (--limit, limits:)", () => {
  it("reads sizes, counts, cores and max in the words of the config file", () => {
    assert.deepEqual(
      limitSettingsOf({
        instance: { memory: "512Mi", pids: 100, cpu: 1.5, "open-files": 2048, disk: "max" },
        build: { memory: 1048576, cpu: "max", pids: "max" },
        promise: { "open-files": 256 },
      }),
      {
        instance: { memory: 512 * 1024 ** 2, pids: 100, cpu: 1.5, openFiles: 2048, disk: null },
        build: { memory: 1048576, cpu: null, pids: null },
        promise: { openFiles: 256 },
      },
    );
  });

  it("refuses a bad value naming KIND.KEY (E_AGENT_CONFIG)", () => {
    for (const [words, message] of [
      [{ instance: { memory: "lots" } }, /limit instance\.memory: 'lots' is not a size/],
      [{ instance: { pids: 0 } }, /limit instance\.pids: '0' is not a positive integer or max/],
      [{ promise: { cpu: 0 } }, /limit promise\.cpu: '0' is not a number of cores/],
      [{ build: { "open-files": 8 } }, /limit build\.open-files: '8' is not an integer from 16/],
      [{ build: { disk: "1Gi" } }, /limit build\.disk: unknown \(memory, pids, cpu, open-files\)/],
    ] as const) {
      assert.throws(
        () => limitSettingsOf(words as never),
        (err: Error & { code?: string }) =>
          err.code === "E_AGENT_CONFIG" && message.test(err.message),
      );
    }
  });

  it("--limit KIND.KEY=VALUE adds up, and the flags win over the file key by key", () => {
    let flags = parseLimitFlag("instance.memory=1Gi");
    flags = parseLimitFlag("instance.disk=4Gi", flags);
    flags = parseLimitFlag("promise.pids=8", flags);
    assert.deepEqual(flags, {
      instance: { memory: "1Gi", disk: "4Gi" },
      promise: { pids: "8" },
    });
    assert.deepEqual(
      mergeLimitWords({ instance: { memory: "2Gi", pids: 64 }, build: { cpu: 2 } }, flags),
      {
        instance: { memory: "1Gi", pids: 64, disk: "4Gi" },
        build: { cpu: 2 },
        promise: { pids: "8" },
      },
    );
    assert.throws(() => parseLimitFlag("memory=1Gi"), /expected KIND\.KEY=VALUE/);
    assert.throws(() => parseLimitFlag("instance.memory=much"), /is not a size/);
  });
});
