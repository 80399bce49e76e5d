import { strict as assert } from "node:assert";
import { type OpcuaDeviceConfig, validateCollectorConfig } from "../../../collector/index.js";
import { hangTimeoutMs, keepAliveCount } from "../../../collector/opcua/hang-bound.js";
import { collectorConfig } from "../fixtures.js";

function config(interval: string, hangTimeout?: string) {
  return collectorConfig({
    devices: [
      {
        name: "plc",
        interval,
        opcua: { endpoint: "opc.tcp://127.0.0.1:4840", ...(hangTimeout ? { hangTimeout } : {}) },
        tags: [{ name: "t", node: "ns=1;s=T" }],
      },
    ],
  });
}
const device = (c: ReturnType<typeof config>) => c.devices[0] as OpcuaDeviceConfig;

describe("OPC-UA hang bound", () => {
  it("is opcua.hangTimeout, else 10 s, else three publishing intervals when longer", () => {
    assert.equal(hangTimeoutMs(device(config("100ms", "5s"))), 5000);
    assert.equal(hangTimeoutMs(device(config("1s"))), 10_000);
    assert.equal(hangTimeoutMs(device(config("5s"))), 15_000);
  });

  it("asks for keep-alives at most a third of the bound apart, and at least one per publish", () => {
    assert.equal(keepAliveCount(10_000, 100), 33);
    assert.equal(keepAliveCount(10_000, 1000), 3);
    assert.equal(keepAliveCount(5000, 2500), 1);
  });

  it("refuses a hangTimeout shorter than two publishing intervals, naming the key", () => {
    assert.doesNotThrow(() => validateCollectorConfig(config("1s", "2s")));
    assert.throws(() => validateCollectorConfig(config("1s", "1500ms")), {
      code: "E_COLLECTOR_CONFIG",
      message:
        /^devices\[0\]\.opcua\.hangTimeout: must be at least twice the device's interval \(1s\)/,
    });
  });
});
