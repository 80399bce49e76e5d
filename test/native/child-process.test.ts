import { strict as assert } from "node:assert";
import { spawn as nodeSpawn } from "node:child_process";
import { once } from "node:events";
import { adopt, spawn } from "../../native/index.js";

describe("exit watch through a pidfd", function () {
  this.timeout(10_000);

  it("reports a child's exit code and a killing signal, and kill() is false once it has ended", async () => {
    const ok = spawn({ command: "sh", args: ["-c", "exit 5"] });
    assert.deepEqual(await ok.exited, { code: 5, signal: null });
    assert.equal(ok.kill("SIGTERM"), false);
    const sleeper = spawn({ command: "sleep", args: ["30"] });
    assert.equal(sleeper.kill("SIGTERM"), true);
    assert.deepEqual(await sleeper.exited, { code: null, signal: "SIGTERM" });
  });

  it("adopts a process that is not its child and reports its end with the status unknown", async () => {
    const other = nodeSpawn("sleep", ["30"]);
    await once(other, "spawn");
    const adopted = adopt(other.pid as number);
    other.kill("SIGKILL");
    assert.deepEqual(await adopted.exited, { code: null, signal: null });
    // The status stays with the real parent, which still reaps it.
    const [, signal] = await once(other, "exit");
    assert.equal(signal, "SIGKILL");
  });

  it("throws ESRCH when adopting a pid that no longer exists", async () => {
    const gone = spawn({ command: "true" });
    await gone.exited;
    assert.throws(() => adopt(gone.pid), { code: "ESRCH", syscall: "pidfd_open" });
  });

  it("lets Node exit while an unref'd watched child still runs", async () => {
    const script = `
      import { spawn } from ${JSON.stringify(new URL("../../native/index.ts", import.meta.url).pathname)};
      const c = spawn({ command: "sleep", args: ["30"], unref: true });
      console.log(c.pid);
    `;
    const node = nodeSpawn(process.execPath, [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      script,
    ]);
    let out = "";
    node.stdout.on("data", (d) => {
      out += d;
    });
    const [code] = await once(node, "exit");
    assert.equal(code, 0);
    process.kill(Number(out.trim()), "SIGKILL");
  });
});
