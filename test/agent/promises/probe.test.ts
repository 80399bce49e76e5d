import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { type AddressInfo, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ensurePartition,
  type Partition,
  type PartitionOptions,
  type Probe,
  removeCgroupTree,
  removePartition,
  removeSystemUser,
  runProbe,
} from "../../../agent/index.js";
import { Cgroup } from "../../../native/index.js";
import { until } from "../../helpers/until.js";

function listen<T extends Server | HttpServer>(server: T): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
}

describe("promise probes (real sockets, files, processes)", function () {
  this.timeout(20_000);
  let tmp: string;
  let parent: Cgroup;
  let options: PartitionOptions;
  let partition: Partition;

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "outpost-agent-probe-"));
    chmodSync(tmp, 0o711);
    parent = Cgroup.own().createChild(`outpost-test-agent-probe-${process.pid}`);
    options = {
      root: tmp,
      logRoot: join(tmp, "logs"),
      userPrefix: `otq${randomBytes(3).toString("hex")}-`,
      isolated: true,
      cgroupParent: parent,
    };
    partition = ensurePartition(options, 1);
  });

  after(async () => {
    try {
      await removePartition(options, partition);
    } finally {
      await removeCgroupTree(parent);
      removeSystemUser(`${options.userPrefix}1`);
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("tcp passes on a listening port and names the error on a closed one", async () => {
    const server = createServer();
    const port = await listen(server);
    assert.deepEqual(await runProbe({ kind: "tcp", host: "127.0.0.1", port }, 1000), { ok: true });
    await new Promise((r) => server.close(r));
    assert.deepEqual(await runProbe({ kind: "tcp", host: "127.0.0.1", port }, 1000), {
      ok: false,
      message: `tcp 127.0.0.1:${port}: ECONNREFUSED`,
    });
  });

  it("http passes below status 400 and reports the status otherwise", async () => {
    let status = 200;
    const server = createHttpServer((_req, res) => {
      res.statusCode = status;
      res.end("x");
    });
    const port = await listen(server);
    const url = `http://127.0.0.1:${port}/health`;
    try {
      assert.deepEqual(await runProbe({ kind: "http", url }, 1000), { ok: true });
      status = 503;
      assert.deepEqual(await runProbe({ kind: "http", url }, 1000), {
        ok: false,
        message: `http ${url}: status 503`,
      });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it("file passes when the file exists", async () => {
    const path = join(partition.path, "ready");
    assert.equal((await runProbe({ kind: "file", path }, 1000)).ok, false);
    writeFileSync(path, "");
    assert.equal((await runProbe({ kind: "file", path }, 1000)).ok, true);
  });

  function commandProbe(script: string, cgroup?: Cgroup): Probe {
    return {
      kind: "command",
      argv: ["sh", "-c", script],
      cwd: partition.path,
      env: { PATH: "/usr/bin:/bin" },
      user: partition.user,
      ...(cgroup ? { cgroup } : {}),
    };
  }

  it("command runs as the partition user and carries its output in the result", async () => {
    assert.deepEqual(await runProbe(commandProbe(`test "$(id -u)" = ${partition.uid}`), 5000), {
      ok: true,
    });
    assert.deepEqual(
      await runProbe(commandProbe("echo checking; echo p99 jitter 12 us"), 5000),
      { ok: true, message: "p99 jitter 12 us" },
      "a passing check's last line is its message",
    );
    assert.deepEqual(await runProbe(commandProbe("echo queue full >&2; exit 2"), 5000), {
      ok: false,
      message: "command sh: exit status 2: queue full",
    });
  });

  it("command past its timeout is killed with every process it started", async () => {
    const group = partition.cgroup?.createChild("promise-hang");
    assert.ok(group);
    try {
      const t0 = Date.now();
      const outcome = await runProbe(commandProbe("sleep 60 & setsid sleep 60 & wait", group), 300);
      assert.deepEqual(outcome, { ok: false, message: "command sh: timed out after 300 ms" });
      assert.ok(Date.now() - t0 < 5000);
      await until(() => group.procs().length === 0, 5000, "the setsid'd sleep was killed too");
    } finally {
      await group.remove();
    }
  });
});
