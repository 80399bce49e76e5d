import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfigFile } from "../../../cli/config/index.js";

const schema = {
  type: "object",
  additionalProperties: false,
  required: ["devices"],
  properties: {
    devices: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name"],
        properties: {
          name: { type: "string" },
          interval: { type: "string", pattern: "^[0-9]+(ms|s|m)$" },
          unit: { type: "integer", minimum: 1, maximum: 247, default: 1 },
          parity: { enum: ["none", "even", "odd"] },
        },
      },
    },
  },
};

interface Config {
  devices: { name: string; interval?: string; unit: number }[];
}

describe("loadConfigFile", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-config-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function write(text: string): string {
    const file = join(dir, "collector.yaml");
    writeFileSync(file, text);
    return file;
  }

  function errorOf(file: string): ConfigError {
    try {
      loadConfigFile(file, schema);
    } catch (err) {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      return err;
    }
    assert.fail("config was accepted");
  }

  it("returns typed data with schema defaults filled in", () => {
    const file = write("devices:\n  - name: turbine-1\n    interval: 1s\n");
    const config = loadConfigFile<Config>(file, schema);
    assert.deepEqual(config.devices[0], { name: "turbine-1", interval: "1s", unit: 1 });
  });

  it("names file, line and key of a value of the wrong type", () => {
    const file = write("devices:\n  - name: turbine-1\n  - name: turbine-2\n    unit: many\n");
    const err = errorOf(file);
    assert.equal(err.code, "E_CONFIG");
    assert.deepEqual(err.issues[0], {
      key: "devices[1].unit",
      line: 4,
      column: 11,
      message: "must be integer",
    });
    assert.equal(err.message, `${file}:4:11: devices[1].unit: must be integer`);
  });

  it("names an unknown key at its own line and suggests the known one", () => {
    const file = write("devices:\n  - name: t1\n    intervall: 1s\n");
    const err = errorOf(file);
    assert.equal(
      err.message,
      `${file}:3:5: devices[0].intervall: unknown key; did you mean 'interval'?`,
    );
  });

  it("names a missing required key at the map that lacks it", () => {
    const file = write("devices:\n  - interval: 1s\n");
    const err = errorOf(file);
    assert.equal(err.message, `${file}:2:5: devices[0].name: required key is missing`);
  });

  it("lists the allowed values of an enum", () => {
    const file = write("devices:\n  - name: t1\n    parity: mark\n");
    assert.match(
      errorOf(file).message,
      /:3:13: devices\[0\]\.parity: must be one of: "none", "even", "odd"$/,
    );
  });

  it("reports every problem, the first in the message and a count of the rest", () => {
    const file = write("devices:\n  - name: 5\n    unit: 0\n");
    const err = errorOf(file);
    assert.equal(err.issues.length, 2);
    assert.match(err.message, /\(and 1 more\)$/);
  });

  it("names the line of a YAML syntax error", () => {
    const file = write("devices:\n  - name: t1\n   bad: [unclosed\n");
    const err = errorOf(file);
    assert.equal(err.issues[0]?.line, 3);
    assert.match(err.message, new RegExp(`^${file}:3:\\d+: `));
  });

  it("rejects a duplicated key instead of silently keeping the last", () => {
    const file = write("devices:\n  - name: t1\n    name: t2\n");
    assert.match(errorOf(file).message, /:3:\d+: .*unique/i);
  });

  it("names an unreadable file and why", () => {
    const err = errorOf(join(dir, "missing.yaml"));
    assert.equal(err.message, `${join(dir, "missing.yaml")}: cannot read (ENOENT)`);
  });
});
