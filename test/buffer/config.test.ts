import { strict as assert } from "node:assert";
import { Ajv } from "ajv";
import {
  bufferConfigSchema,
  resolveConfig,
  STREAM_NAME,
  streamConfig,
} from "../../buffer/config.js";

describe("buffer/config", () => {
  it("fills every default and applies per-stream overrides over them", () => {
    const config = resolveConfig({
      dir: "/x",
      defaults: { fsync: "always" },
      streams: { alarms: { priority: 9 } },
    });
    assert.equal(config.maxChunks, 4096);
    assert.equal(config.forward.backoffCapMs, 60_000);
    const alarms = streamConfig(config, "alarms");
    assert.equal(alarms.priority, 9);
    assert.equal(alarms.fsync, "always");
    assert.equal(streamConfig(config, "bulk").priority, 0);
  });

  it("has a schema that rejects unknown keys and bad policy words", () => {
    const validate = new Ajv({ useDefaults: true }).compile(bufferConfigSchema);
    assert.ok(validate({ dir: "/x", defaults: { fsync: "batch" } }));
    assert.equal(validate({ dir: "/x", defualts: {} }), false);
    assert.equal(validate({ dir: "/x", defaults: { overflow: "drop_newest" } }), false);
    assert.equal(validate({ dir: "/x", streams: { "../evil": {} } }), false);
  });

  it("keeps stream names to a safe directory-name alphabet", () => {
    for (const ok of ["alarms", "turbine-7.power_kw", "A"]) assert.ok(STREAM_NAME.test(ok), ok);
    for (const bad of ["", ".hidden", "a/b", "..", "x".repeat(65)])
      assert.ok(!STREAM_NAME.test(bad), bad);
  });
});
