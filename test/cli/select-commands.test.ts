import assert from "node:assert/strict";
import type { CommandModule } from "../../cli/commands/index.js";
import type { RegisterCommand } from "../../cli/program.js";
import { commandWord, selectCommands } from "../../cli/select-commands.js";

function modules(loaded: string[]): CommandModule[] {
  return ["exec", "buffer", "agent"].map((name) => ({
    name,
    load: async () => {
      loaded.push(name);
      const register: RegisterCommand = (program) => {
        program.command(name);
      };
      return register;
    },
  }));
}

describe("selectCommands", () => {
  it("finds the command word after global options and their values", () => {
    assert.equal(commandWord(["--log-level", "debug", "buffer", "stat"]), "buffer");
    assert.equal(commandWord(["--log-level=warn", "agent", "start"]), "agent");
    assert.equal(commandWord(["-h"]), undefined);
  });

  it("loads only the module the command line names", async () => {
    const loaded: string[] = [];
    const registers = await selectCommands(["buffer", "stat", "/tmp/x"], modules(loaded));
    assert.equal(registers.length, 1);
    assert.deepEqual(loaded, ["buffer"]);
  });

  it("loads nothing for a bare --version", async () => {
    const loaded: string[] = [];
    assert.deepEqual(await selectCommands(["--version"], modules(loaded)), []);
    assert.deepEqual(loaded, []);
  });

  it("loads every module for top-level help and for an unknown word (did-you-mean)", async () => {
    for (const argv of [["--help"], [], ["bufer"]]) {
      const loaded: string[] = [];
      await selectCommands(argv, modules(loaded));
      assert.deepEqual(loaded.sort(), ["agent", "buffer", "exec"], argv.join(" "));
    }
  });
});
