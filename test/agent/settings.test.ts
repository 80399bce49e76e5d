import { strict as assert } from "node:assert";
import {
  agentConfigSchema,
  camelKeys,
  kebabKeys,
  masterEndpoints,
  resolveAgentSettings,
} from "../../agent/index.js";

const required = {
  data: "/var/lib/outpost",
  master: "tcp://127.0.0.1:7000",
  masterKey: "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7",
};

describe("agent settings: one schema for the YAML file, the flags and startAgent", () => {
  it("fills every default from the schema, in seconds as the YAML and the flags give them", () => {
    assert.deepEqual(resolveAgentSettings(required), {
      ...required,
      partitions: 4,
      syncInterval: 5,
      board: "generic",
      fileRoot: [],
      limits: {},
      readerUser: "nobody",
      housekeepingCores: 1,
      stopTimeout: 10,
      actionBudget: 15,
      relayTimeout: 10,
      fullPass: 600,
      usageInterval: 60,
      diskInterval: 30,
      restartBackoff: { initial: 1, max: 60 },
      installBackoff: { initial: 10, max: 600 },
    });
  });

  it("keeps what is given, leaves other keys out and does not touch the caller's object", () => {
    const given = { ...required, syncInterval: 0.2, limits: { instance: { memory: "1Gi" } } };
    const before = structuredClone(given);
    const settings = resolveAgentSettings({ ...given, logger: {} } as typeof given);
    assert.equal(settings.syncInterval, 0.2);
    assert.deepEqual(settings.limits, { instance: { memory: "1Gi" } });
    assert.equal("logger" in settings, false);
    assert.deepEqual(given, before);
  });

  it("refuses a missing or bad setting with E_AGENT_CONFIG naming it as the YAML does", () => {
    assert.throws(
      () => resolveAgentSettings({ ...required, master: undefined as unknown as string }),
      (err: Error & { code?: string }) =>
        err.code === "E_AGENT_CONFIG" && /master: must have required property/.test(err.message),
    );
    assert.throws(
      () => resolveAgentSettings({ ...required, syncInterval: 7200 }),
      (err: Error & { code?: string }) =>
        err.code === "E_AGENT_CONFIG" && /sync-interval: must be <= 3600/.test(err.message),
    );
  });

  it("takes several masters as a comma-separated list, DNS names and [IPv6] among them", () => {
    const master = "tcp://10.0.0.1:5660, tcp://masters.example.org:5660,tcp://[fd00::1]:5660";
    const settings = resolveAgentSettings({ ...required, master });
    assert.equal(settings.master, master);
    assert.deepEqual(masterEndpoints(settings), [
      "tcp://10.0.0.1:5660",
      "tcp://masters.example.org:5660",
      "tcp://[fd00::1]:5660",
    ]);
    assert.deepEqual(masterEndpoints(required), ["tcp://127.0.0.1:7000"]);
  });

  for (const [master, message] of [
    ["tcp://10.0.0.1:5660,", /master: entry 2 is empty \(a comma too many\?\)/],
    ["tcp://a:5660,,tcp://b:5660", /master: entry 2 is empty/],
    ["tcp://a:5660,http://b:5660", /master: entry 2 'http:\/\/b:5660' is not tcp:\/\/HOST:PORT/],
    ["tcp://a:5660,tcp://b", /master: entry 2 'tcp:\/\/b' is not tcp:\/\/HOST:PORT/],
    ["tcp://*:5660", /master: 'tcp:\/\/\*:5660' is not tcp:\/\/HOST:PORT/],
    ["tcp://[10.0.0.1]:5660", /master: 'tcp:\/\/\[10\.0\.0\.1\]:5660' is not/],
    ["tcp://bad_name:5660", /master: 'tcp:\/\/bad_name:5660' is not tcp:\/\/HOST:PORT/],
    [
      "tcp://a:5660,tcp://b:70000",
      /master: entry 2 'tcp:\/\/b:70000': port 70000 is not 1\.\.65535/,
    ],
    ["tcp://a:5660,tcp://b:5660,tcp://a:5660", /master: entry 3 'tcp:\/\/a:5660' repeats entry 1/],
    [
      Array.from({ length: 65 }, (_, i) => `tcp://m${i}:5660`).join(","),
      /master: 65 endpoints, at most 64/,
    ],
  ] as const) {
    it(`refuses master '${master.slice(0, 40)}' naming the entry`, () => {
      assert.throws(
        () => resolveAgentSettings({ ...required, master }),
        (err: Error & { code?: string }) =>
          err.code === "E_AGENT_CONFIG" &&
          message.test(err.message) &&
          /^agent settings: /.test(err.message),
      );
    });
  }

  it("takes heartbeats for the links, the timeout longer than the interval", () => {
    const heartbeat = { interval: 60, timeout: 180 };
    assert.deepEqual(resolveAgentSettings({ ...required, heartbeat }).heartbeat, heartbeat);
    assert.throws(
      () => resolveAgentSettings({ ...required, heartbeat: { interval: 6, timeout: 2 } }),
      /heartbeat: timeout \(2\) must be longer than interval \(6\)/,
    );
    assert.throws(
      () => resolveAgentSettings({ ...required, heartbeat: { interval: 0, timeout: 2 } }),
      /heartbeat\.interval: must be > 0/,
    );
  });

  it("names each key in camelCase for startAgent and back in kebab-case, as commander does for flags", () => {
    const keys = Object.keys(agentConfigSchema.properties);
    const camel = Object.keys(camelKeys(Object.fromEntries(keys.map((k) => [k, 1]))));
    assert.ok(camel.includes("masterKey") && camel.includes("syncInterval"));
    assert.deepEqual(Object.keys(kebabKeys(Object.fromEntries(camel.map((k) => [k, 1])))), keys);
    for (const [key, schema] of Object.entries(agentConfigSchema.properties))
      assert.ok("description" in schema, `${key} is documented`);
  });
});
