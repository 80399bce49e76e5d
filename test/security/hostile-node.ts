import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Logger, pino } from "pino";
import {
  type LimitWords,
  listBuildAccounts,
  loadOrCreateIdentity,
  partitionsGroupName,
  type RunningAgent,
  removeCgroupTree,
  removeSystemUser,
  startAgent,
} from "../../agent/index.js";
import {
  type InstanceRecord,
  isPlaced,
  MasterClient,
  openDataDir,
  type PlacedInstance,
  type RunningMaster,
  startMaster,
} from "../../master/index.js";
import { Cgroup, readCgroupMembership } from "../../native/index.js";
import { repoRoot } from "../helpers/run-outpost.js";
import { eventually } from "../helpers/until.js";

const logger = pino({ level: process.env.DEBUG_AGENT_LOG ?? "silent" });
const SYNC_SECONDS = 0.2;

/** A file's content, owner and mode: what an attack must not change. */
export interface FileFacts {
  content: string;
  uid: number;
  mode: number;
}

export function factsOf(path: string): FileFacts {
  const st = statSync(path);
  return { content: readFileSync(path, "utf8"), uid: st.uid, mode: st.mode & 0o7777 };
}

/**
 * A real master and a real agent as root (4 partitions, syncing every 0.2 s) in a temp
 * dir, with a bystander instance of the example release running beside whatever hostile
 * release a test supplies. Accounts, groups and files are the test's own, removed after.
 */
export class HostileNode {
  readonly tmp = mkdtempSync(join(tmpdir(), "outpost-security-"));
  readonly userPrefix = `ots${randomBytes(3).toString("hex")}-`;
  readonly buildPrefix = `otsb${randomBytes(3).toString("hex")}-`;
  /** The agent's data dir: below `tmp`, or below `dataRoot` when given. */
  readonly agentData: string;
  master!: RunningMaster;
  client!: MasterClient;
  agent: RunningAgent | undefined;
  private parent: Cgroup | undefined;
  private readonly parentName = `outpost-test-security-${process.pid}`;
  private bystanderPort = 7300;

  constructor(
    private readonly settings: {
      /** Seconds from SIGTERM to the group kill (`stop-timeout`). */
      stopTimeout?: number;
      /** The master's and the agent's logger (default: silent, or DEBUG_AGENT_LOG's level). */
      logger?: Logger;
      /** The agent's default limits (`--limit`); its own defaults otherwise. */
      limits?: LimitWords;
      /** Where the agent's data dir goes (e.g. a filesystem with project quota; o+x). */
      dataRoot?: string;
      /** How often partitions' files are measured where there is no project quota. */
      diskInterval?: number;
    } = {},
  ) {
    this.agentData = join(settings.dataRoot ?? this.tmp, "agent");
  }

  async start(): Promise<this> {
    // Like /var/lib: partitions and the reader traverse it, nobody lists it.
    chmodSync(this.tmp, 0o711);
    this.parent = Cgroup.own().createChild(this.parentName);
    this.master = await startMaster({
      data: join(this.tmp, "master"),
      listen: "tcp://127.0.0.1:*",
      http: "127.0.0.1:0",
      logger: this.settings.logger ?? logger,
    });
    this.client = new MasterClient(
      this.master.url,
      openDataDir(join(this.tmp, "master")).adminToken,
    );
    await this.client.addNode("n1", loadOrCreateIdentity(this.agentData).publicKey);
    this.agent = await startAgent({
      data: this.agentData,
      master: this.master.endpoint,
      masterKey: this.master.publicKey,
      partitions: 4,
      agentVersion: "0.0.0-test",
      logger: this.settings.logger ?? logger,
      cgroupParent: this.parentName,
      userPrefix: this.userPrefix,
      buildAccountPrefix: this.buildPrefix,
      syncInterval: SYNC_SECONDS,
      restartBackoff: { initial: 0.5, max: 0.5 },
      installBackoff: { initial: 60, max: 60 },
      stopTimeout: this.settings.stopTimeout ?? 2,
      actionBudget: 3,
      ...(this.settings.limits ? { limits: this.settings.limits } : {}),
      ...(this.settings.diskInterval !== undefined
        ? { diskInterval: this.settings.diskInterval }
        : {}),
    });
    await eventually("registered", 10_000, async () =>
      (await this.client.listNodes())[0]?.partitions === 4 ? true : undefined,
    );
    const echo = join(this.tmp, "echo");
    mkdirSync(echo);
    for (const f of ["software.yaml", "echo.tar.gz"])
      copyFileSync(join(repoRoot, "test", "fixtures", "echo", f), join(echo, f));
    await this.supplyAndRequest("bystander", join(echo, "software.yaml"), {
      port: String(this.bystanderPort),
    });
    await this.ready("bystander");
    return this;
  }

  /** Writes a release (descriptor and files) under the test's dir; returns the descriptor path. */
  release(name: string, descriptor: string, files: Record<string, string | Buffer> = {}): string {
    const dir = join(this.tmp, "releases", name);
    mkdirSync(dir, { recursive: true });
    for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
    writeFileSync(join(dir, "software.yaml"), descriptor);
    return join(dir, "software.yaml");
  }

  async supplyAndRequest(
    name: string,
    software: string,
    parameters: Record<string, string> = {},
  ): Promise<void> {
    await this.client.supply("n1", software);
    await this.client.request({ name, software, parameters });
  }

  async show(name: string): Promise<InstanceRecord | undefined> {
    try {
      return (await this.client.show(name)).instance;
    } catch (err) {
      if ((err as { code?: string }).code === "E_MASTER_NOT_FOUND") return undefined;
      throw err;
    }
  }

  async ready(name: string, timeoutMs = 20_000): Promise<PlacedInstance> {
    return eventually(`${name} ready`, timeoutMs, async () => {
      const i = await this.show(name);
      return i &&
        isPlaced(i) &&
        i.status === "running" &&
        i.promises.length > 0 &&
        i.promises.every((p) => p.ok)
        ? i
        : undefined;
    });
  }

  /** Waits for `name` to be reported failed; returns the report. */
  async failed(name: string, timeoutMs = 20_000): Promise<PlacedInstance> {
    return eventually(`${name} failed`, timeoutMs, async () => {
      const i = await this.show(name);
      return i && isPlaced(i) && i.status === "failed" ? i : undefined;
    });
  }

  /**
   * The agent still converges and reports the others: the bystander, moved to another
   * port, is running on it and reported so within `withinMs`.
   */
  async stillConverging(withinMs = 5_000): Promise<void> {
    this.bystanderPort++;
    const record = await this.show("bystander");
    assert.ok(record && isPlaced(record), "the bystander exists");
    await this.client.request({
      name: "bystander",
      software: record.software,
      parameters: { port: String(this.bystanderPort) },
    });
    const url = `tcp://127.0.1.${record.partition + 1}:${this.bystanderPort}`;
    await eventually(`bystander reported on ${url}`, withinMs, async () => {
      const i = await this.show("bystander");
      return i?.connection.url === url && i.promises.every((p) => p.ok) ? true : undefined;
    });
  }

  partitionUid(number: number): number {
    return Number(
      /^[^:]+:[^:]*:(\d+):/m.exec(
        readFileSync("/etc/passwd", "utf8")
          .split("\n")
          .find((l) => l.startsWith(`${this.userPrefix}${number}:`)) ?? "",
      )?.[1],
    );
  }

  /** Live processes of `uid`, and those of them not in that partition's cgroup (must be none). */
  processesOf(uid: number, partition: number): { all: number[]; strays: number[] } {
    const all: number[] = [];
    const out: number[] = [];
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const status = readFileSync(`/proc/${entry}/status`, "utf8");
        if (/^State:\s+Z/m.test(status)) continue;
        if (!new RegExp(`^Uid:\\s+${uid}\\s`, "m").test(status)) continue;
        all.push(Number(entry));
        const where = readCgroupMembership(Number(entry));
        // The hierarchy that limits it: v1 pids on hybrid hosts, the unified one on pure v2.
        const path = where.v1.pids ?? where.unified ?? "";
        const group = partitionsGroupName(this.agent?.naming.prefix ?? "");
        if (!path.includes(`/${group}/p${partition}`)) out.push(Number(entry));
      } catch {
        // exited while we looked
      }
    }
    return { all, strays: out };
  }

  async close(): Promise<void> {
    await this.agent?.shutdown();
    await this.master?.close();
    if (this.parent) await removeCgroupTree(this.parent);
    for (const n of [1, 2, 3, 4]) removeSystemUser(`${this.userPrefix}${n}`);
    const left = listBuildAccounts(this.buildPrefix);
    for (const account of left) removeSystemUser(account);
    rmSync(this.tmp, { recursive: true, force: true });
    if (this.settings.dataRoot) rmSync(this.agentData, { recursive: true, force: true });
    assert.deepEqual(left, [], "no build account outlived its build");
  }
}
