import { strict as assert } from "node:assert";
import { existsSync } from "node:fs";
import {
  type Board,
  boardFile,
  boardIds,
  boardSchema,
  checkBoard,
  toolchainFile,
} from "../../boards/index.js";
import { loadConfigFile } from "../../cli/config/index.js";

describe("boards: the shipped board definitions", () => {
  it("ship at least qemu-x86_64, qemu-aarch64, generic-x86_64-uefi, raspberrypi4 and olimex-a20", () => {
    for (const id of [
      "qemu-x86_64",
      "qemu-aarch64",
      "generic-x86_64-uefi",
      "raspberrypi4",
      "olimex-a20",
    ]) {
      assert.ok(boardIds().includes(id), id);
    }
  });

  for (const id of boardIds()) {
    it(`${id}: passes the schema and the consistency checks, its toolchain file exists`, () => {
      const file = boardFile(id);
      assert.ok(file);
      const board = loadConfigFile<Board>(file, boardSchema);
      assert.equal(board.id, id, "the id matches the file name");
      checkBoard(board);
      if (board.toolchain) assert.ok(existsSync(toolchainFile(board.toolchain)), board.toolchain);
      assert.deepEqual(board.layout.partitions.map((p) => p.role).sort(), [
        "boot",
        "data",
        "rootfs-a",
        "rootfs-b",
      ]);
    });
  }

  it("asks for Debian's PREEMPT_RT kernel on every board that wants RT", () => {
    for (const id of boardIds()) {
      const board = loadConfigFile<Board>(boardFile(id) as string, boardSchema);
      if (board.kernel.realtime) assert.match(board.kernel.package, /^linux-image-rt-/, id);
    }
  });

  it("resolves a board file path as well as an id, and nothing else", () => {
    assert.equal(boardFile("no-such-board"), undefined);
    assert.equal(boardFile("/etc/passwd"), undefined, "only .yaml files");
  });
});
