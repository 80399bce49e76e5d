import { strict as assert } from "node:assert";
import type { OpcuaDeviceConfig } from "../../collector/index.js";
import { collectorConfig } from "./fixtures.js";

const device = (tag: object) => ({
  dataDir: "/x",
  devices: [
    {
      name: "nacelle",
      opcua: { endpoint: "opc.tcp://127.0.0.1:4840" },
      tags: [{ name: "spectrum", node: "ns=1;s=Spectrum", ...tag }],
    },
  ],
});

describe("collector config schema: OPC-UA tag maxArrayLength", () => {
  it("defaults to 1024 elements and takes a tag's own bound", () => {
    const tagOf = (tag: object) =>
      (collectorConfig(device(tag)).devices[0] as OpcuaDeviceConfig).tags[0];
    assert.equal(tagOf({})?.maxArrayLength, 1024);
    assert.equal(tagOf({ maxArrayLength: 8192 })?.maxArrayLength, 8192);
  });

  it("refuses a bound that is not a non-negative integer, naming the key", () => {
    for (const bad of [-1, 1.5, "many"]) {
      assert.throws(() => collectorConfig(device({ maxArrayLength: bad })), /maxArrayLength/);
    }
  });
});
