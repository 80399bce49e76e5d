import { strict as assert } from "node:assert";
import { type ModbusTag, planReads } from "../../../collector/index.js";

const opts = { coalesce: true, maxGap: 0, maxRegisters: 125, maxBits: 2000 };
const reg = (name: string, address: number, type: ModbusTag["type"] = "uint16"): ModbusTag => ({
  name,
  register: "holding",
  address,
  type,
  order: "ABCD",
});
const shape = (tags: ModbusTag[], o = opts) =>
  planReads(tags, o).map((r) => [r.functionCode, r.address, r.count, r.tags.map((t) => t.offset)]);

describe("collector Modbus read plan", () => {
  it("merges adjacent tags into one request with each tag at its offset", () => {
    assert.deepEqual(shape([reg("b", 12, "float32"), reg("a", 10, "int32"), reg("c", 14)]), [
      [3, 10, 5, [0, 2, 4]],
    ]);
  });

  it("reads across a hole only up to maxGap", () => {
    const tags = [reg("a", 0), reg("b", 3)];
    assert.equal(shape(tags).length, 2);
    assert.deepEqual(shape(tags, { ...opts, maxGap: 2 }), [[3, 0, 4, [0, 3]]]);
  });

  it("splits at the 125-register and 2000-bit caps", () => {
    const regs = Array.from({ length: 130 }, (_, i) => reg(`r${i}`, i));
    assert.deepEqual(
      planReads(regs, opts).map((r) => r.count),
      [125, 5],
    );
    const coils = Array.from({ length: 2100 }, (_, i) => ({
      ...reg(`c${i}`, i, "bool"),
      register: "coil" as const,
    }));
    assert.deepEqual(
      planReads(coils, opts).map((r) => [r.functionCode, r.count]),
      [
        [1, 2000],
        [1, 100],
      ],
    );
  });

  it("keeps register kinds apart and maps them to function codes 1, 2, 3, 4", () => {
    const kinds = (["input", "holding", "discrete", "coil"] as const).map((register, i) => ({
      ...reg(`k${i}`, 0, register === "coil" || register === "discrete" ? "bool" : "uint16"),
      register,
    }));
    assert.deepEqual(
      planReads(kinds, opts).map((r) => r.functionCode),
      [1, 2, 3, 4],
    );
  });

  it("sends one request per tag with coalescing off", () => {
    const tags = [reg("a", 0), reg("b", 1, "float64"), reg("c", 5)];
    assert.deepEqual(shape(tags, { ...opts, coalesce: false }), [
      [3, 0, 1, [0]],
      [3, 1, 4, [0]],
      [3, 5, 1, [0]],
    ]);
  });

  it("lets overlapping tags share registers", () => {
    assert.deepEqual(shape([reg("wide", 0, "uint64"), reg("low", 2, "uint32")]), [
      [3, 0, 4, [0, 2]],
    ]);
  });
});
