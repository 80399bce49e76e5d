import { strict as assert } from "node:assert";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair, type InstanceReport, NodeLink } from "../../protocol/index.js";
import { runOutpost } from "../helpers/run-outpost.js";
import {
  type StartedMaster,
  startMasterProcess,
  stopMasterProcess,
} from "../master/master-process.js";

const echo = "https://example.org/echo/software.yaml";
const MiB = 1024 ** 2;

describe("outpost show: the limits a node reports for an instance", function () {
  this.timeout(90_000);
  let data: string;
  let child: ChildProcess;
  let master: StartedMaster;
  let link: NodeLink;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    data = mkdtempSync(join(tmpdir(), "outpost-cli-show-"));
    const proc = startMasterProcess(data);
    child = proc.child;
    master = await proc.started;
    env = { OUTPOST_MASTER: master.url, OUTPOST_TOKEN: "" };
    const token = ["--token-file", join(data, "admin.token")];
    const keys = generateKeyPair();
    for (const args of [
      ["node", "add", "gw-1", "--key", keys.publicKey],
      ["supply", echo, "--node", "gw-1"],
    ]) {
      const r = runOutpost([...args, ...token], { env });
      assert.equal(r.status, 0, r.stderr);
    }
    link = new NodeLink({
      endpoint: master.endpoint,
      masterPublicKey: master.publicKey,
      keyPair: keys,
      timeoutMs: 10_000,
    });
    await link.hello({
      agentVersion: "0.1.0",
      arch: "x64",
      board: "generic-x86",
      cpus: 4,
      partitions: 2,
      isolatedCores: [],
    });
    const r = runOutpost(["request", echo, "echo-1", "--param", "port=7000", ...token], { env });
    assert.equal(r.status, 0, r.stderr);
    env.OUTPOST_TOKEN = undefined;
  });

  after(async () => {
    await link?.close();
    await stopMasterProcess(child);
    rmSync(data, { recursive: true, force: true });
  });

  function report(limits: unknown): Promise<{ name: string }[]> {
    const instance = {
      name: "echo-1",
      status: "running",
      promises: [],
      connection: {},
      limits,
    } as unknown as InstanceReport;
    return link.report({ instances: [instance], usage: [] });
  }

  it("shows what holds, in the words of --limit; a report without limits keeps the last ones", async () => {
    assert.deepEqual(
      await report({
        memoryBytes: 512 * MiB,
        pids: 512,
        cpu: 1.5,
        openFiles: 4096,
        diskBytes: 1024 * MiB,
        disk: "quota",
      }),
      [],
    );
    const token = ["--token-file", join(data, "admin.token")];
    let r = runOutpost(["show", "echo-1", ...token], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^limits +memory 512Mi, pids 512, cpu 1\.5, open-files 4096, disk 1Gi \(quota\)$/m,
    );
    await link.report({
      instances: [{ name: "echo-1", status: "running", promises: [], connection: {} }],
      usage: [],
    });
    r = runOutpost(["show", "echo-1", "--json", ...token], { env });
    assert.deepEqual(JSON.parse(r.stdout).instance.limits.disk, "quota");
    assert.deepEqual(await report({ openFiles: 1024 }), []);
    r = runOutpost(["show", "echo-1", ...token], { env });
    assert.match(r.stdout, /^limits +memory max, pids max, cpu max, open-files 1024, disk max$/m);
  });

  it("the master refuses an instance whose limits are not the schema's, and says so in the ack", async () => {
    const rejected = await report({ memoryBytes: -1, disk: "somehow" });
    assert.deepEqual(
      rejected.map((r) => r.name),
      ["echo-1"],
    );
  });
});
