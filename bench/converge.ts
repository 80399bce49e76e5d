import { spawn as spawnChild } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { loadOrCreateIdentity, removeCgroupTree, uninstallAgent } from "../agent/index.js";
import { MasterClient, openDataDir, startMaster } from "../master/index.js";
import { Cgroup, spawn, type WatchedProcess } from "../native/index.js";
import { report } from "./lib/report.js";

/**
 * Time from requesting N instances of a small release to all of them ready (process up,
 * promise green, reported to the master), with the agent's RSS and idle CPU once
 * converged. Baseline, same run: the same N processes started directly with
 * `outpost exec`, timed until all of them accept connections.
 */
const { values: args } = parseArgs({
  options: {
    instances: { type: "string", default: "50" },
    "idle-seconds": { type: "string", default: "10" },
    // The agent picks requests up on its next pass: a short interval measures the
    // convergence itself; 5 (the default of `outpost agent start`) the idle cost.
    "sync-interval": { type: "string", default: "0.2" },
  },
});
const instances = Number(args.instances);
const idleSeconds = Number(args["idle-seconds"]);
if (!Number.isInteger(instances) || instances < 1 || instances > 254)
  throw new RangeError("--instances must be 1..254");

const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "cli", "main.js");
const RELEASE = `apiVersion: outpost/v1
name: tiny
version: 1.0.0
instance:
  parameters:
    type: object
    properties: { port: { type: integer, default: 7000 } }
  processes:
    - name: server
      command: ["socat", "TCP-LISTEN:{{params.port}},bind={{partition.address}},reuseaddr,fork", "EXEC:cat"]
  promises:
    - { name: listening, tcp: "{{partition.address}}:{{params.port}}", interval: 1s }
  publish:
    url: "tcp://{{partition.address}}:{{params.port}}"
`;

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

async function until(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The same processes through `outpost exec`, each in its own fresh cgroup as user nobody. */
async function baseline(): Promise<number> {
  const children: WatchedProcess[] = [];
  const t0 = performance.now();
  for (let i = 0; i < instances; i++) {
    const address = `127.0.3.${i + 1}`;
    children.push(
      spawn({
        command: process.execPath,
        args: [
          cli,
          "exec",
          "--user",
          "nobody",
          "--",
          "socat",
          `TCP-LISTEN:9000,bind=${address},reuseaddr,fork`,
          "EXEC:cat",
        ],
        stdio: ["ignore", "ignore", "inherit"],
      }),
    );
  }
  const pending = new Set(children.map((_, i) => i));
  await until("baseline servers", 120_000, async () => {
    for (const i of [...pending]) if (await accepts(`127.0.3.${i + 1}`, 9000)) pending.delete(i);
    return pending.size === 0;
  });
  const seconds = (performance.now() - t0) / 1000;
  for (const c of children) c.kill("SIGTERM");
  await Promise.all(children.map((c) => c.exited));
  return seconds;
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function rssBytes(pid: number): number {
  return (
    Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024
  );
}

/** The RSS of a bare Node process doing nothing, in this run: what any agent costs at least. */
async function bareNodeRssBytes(): Promise<number> {
  const bare = spawnChild(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
    stdio: "ignore",
  });
  try {
    await new Promise((r) => setTimeout(r, 2000));
    return rssBytes(bare.pid as number);
  } finally {
    bare.kill("SIGKILL");
  }
}

const tmp = mkdtempSync(join(tmpdir(), "outpost-bench-converge-"));
// Partition users traverse it to reach their directories.
chmodSync(tmp, 0o711);
const group = Cgroup.own().createChild(`outpost-bench-converge-${process.pid}`);
const logger = pino({ level: "silent" });
const master = await startMaster({
  data: join(tmp, "master"),
  listen: "tcp://127.0.0.1:*",
  http: "127.0.0.1:0",
  logger,
});
let agent: WatchedProcess | undefined;
try {
  const baselineSeconds = await baseline();
  const client = new MasterClient(master.url, openDataDir(join(tmp, "master")).adminToken);
  const release = join(tmp, "tiny.yaml");
  writeFileSync(release, RELEASE);
  const agentData = join(tmp, "agent");
  await client.addNode("bench", loadOrCreateIdentity(agentData).publicKey);
  agent = spawn({
    command: process.execPath,
    args: [
      cli,
      "--log-level",
      "warn",
      "agent",
      "start",
      "--data",
      agentData,
      "--master",
      master.endpoint,
      "--master-key",
      master.publicKey,
      "--partitions",
      String(instances),
      "--sync-interval",
      args["sync-interval"] ?? "0.2",
    ],
    cgroup: group,
    stdio: ["ignore", "ignore", "inherit"],
  });
  await until(
    "agent registered",
    120_000,
    async () => (await client.listNodes())[0]?.partitions === instances,
  );
  await client.supply("bench", release);
  const t0 = performance.now();
  for (let i = 0; i < instances; i++)
    await client.request({
      name: `tiny-${i + 1}`,
      software: release,
      parameters: { port: "7000" },
    });
  await until("all instances ready", 300_000, async () => {
    const all = await master.store.listInstances({ node: "bench" });
    return (
      all.length === instances &&
      all.every(
        (i) => i.status === "running" && i.promises.length > 0 && i.promises.every((p) => p.ok),
      )
    );
  });
  const oursSeconds = (performance.now() - t0) / 1000;
  // Settle: the first passes after convergence still render and report.
  await new Promise((r) => setTimeout(r, 2000));
  const ticksPerSecond = 100;
  const c0 = cpuTicks(agent.pid);
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const idleCpuPercent =
    ((cpuTicks(agent.pid) - c0) / ticksPerSecond / ((performance.now() - w0) / 1000)) * 100;
  const rss = rssBytes(agent.pid);
  const bareRss = await bareNodeRssBytes();
  report({
    name: "converge",
    ours: oursSeconds,
    baseline: baselineSeconds,
    unit: `s until ${instances} instances ready`,
    better: "lower",
    extra: {
      instances,
      agentRssMB: rss / 1024 / 1024,
      bareNodeRssMB: bareRss / 1024 / 1024,
      agentRssTargetMB: 45,
      agentIdleCpuPercent: idleCpuPercent,
      idleSeconds,
      syncIntervalSeconds: Number(args["sync-interval"]),
    },
  });
} finally {
  agent?.kill("SIGKILL");
  await agent?.exited;
  // Its accounts and groups are named after its own data directory: never another's.
  await uninstallAgent(join(tmp, "agent"));
  await removeCgroupTree(group);
  await master.close();
  rmSync(tmp, { recursive: true, force: true });
}
