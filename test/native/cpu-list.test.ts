import { strict as assert } from "node:assert";
import { CpuListSyntaxError, formatCpuList, parseCpuList } from "../../native/index.js";

describe("native cpu-list", () => {
  it("parses single CPUs, ranges and their mix into sorted distinct numbers", () => {
    assert.deepEqual(parseCpuList("0-3,8,10-11\n"), [0, 1, 2, 3, 8, 10, 11]);
    assert.deepEqual(parseCpuList("5,1,1-2"), [1, 2, 5]);
  });

  it("reads an empty sysfs list (no isolated CPUs) as no CPU", () => {
    assert.deepEqual(parseCpuList("\n"), []);
  });

  it("expands the isolcpus stride form a-b:used/group", () => {
    assert.deepEqual(parseCpuList("0-15:2/4"), [0, 1, 4, 5, 8, 9, 12, 13]);
  });

  it("rejects words, backward ranges and bad strides naming the offending part", () => {
    for (const [text, part] of [
      ["1-a", "'1-a'"],
      ["3-1", "'3-1'"],
      ["0-7:5/4", "'0-7:5/4'"],
      ["1,,2", "''"],
    ] as const) {
      assert.throws(
        () => parseCpuList(text),
        (err: unknown) =>
          err instanceof CpuListSyntaxError &&
          err instanceof TypeError &&
          err.code === "E_CPU_LIST" &&
          err.input === text &&
          err.message.includes(part),
      );
    }
  });

  it("formats CPUs as the kernel does: sorted, consecutive runs as ranges", () => {
    assert.equal(formatCpuList([11, 0, 1, 2, 3, 8, 10]), "0-3,8,10-11");
    assert.equal(formatCpuList([]), "");
    assert.equal(formatCpuList(parseCpuList("2,4-6")), "2,4-6");
  });
});
