import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import {
  loadOrCreateIdentity,
  type RunningAgent,
  removeCgroupTree,
  removeSystemUser,
  startAgent,
} from "../../agent/index.js";
import { type RunningTurbineSim, startTurbineSim } from "../../collector/index.js";
import {
  MasterClient,
  type MasterStore,
  openDataDir,
  PgStore,
  SqliteStore,
} from "../../master/index.js";
import { Cgroup } from "../../native/index.js";
import {
  type StartedMaster,
  startMasterProcess,
  stopMasterProcess,
} from "../master/master-process.js";
import { freePort } from "./free-port.js";
import { type PostgresServer, startPostgres, usePassfile } from "./postgres-server.js";
import { repoRoot } from "./run-outpost.js";
import { eventually } from "./until.js";

/**
 * The demo's pipeline for e2e tests: turbine simulator → collector instance in a
 * partition → its buffer → the agent's local API relay → a master process. The master
 * keeps its data directory, store and ports across a SIGKILL and a start again.
 * `collectorPipeline(label, store)` registers the mocha hooks that make its temp dir and
 * cgroup (and, for `postgres`, a PostgreSQL server of its own with a database) and
 * remove everything (agent, master, simulator, server, accounts) after.
 */
export type PipelineStore = "sqlite" | "postgres";

export interface CollectorPipeline {
  /** The master's data directory. */
  readonly data: string;
  readonly client: MasterClient;
  readonly sim: RunningTurbineSim;
  /** Starts the master (again), on the same data and ports. */
  startMaster(): Promise<StartedMaster>;
  /** SIGKILL: asserts nothing, resolves when it is gone. */
  killMaster(): Promise<void>;
  /**
   * Adds node n1, starts the simulator and the agent (talking to `masterEndpoint`, by
   * default the master's own) and requests the collector on it, sampling every 200 ms.
   */
  startCollector(options: {
    seed: number;
    masterEndpoint?: (endpoint: string) => Promise<string>;
  }): Promise<void>;
  /** The master's store, opened beside the running master (close it after). */
  openStore(): Promise<MasterStore>;
  /** Runs after the pipeline is torn down (e.g. a proxy's close). */
  onCleanup(close: () => Promise<void>): void;
}

const logger = pino({ level: "silent" });

export function collectorPipeline(label: string, store: PipelineStore): CollectorPipeline {
  const userPrefix = `op${label[0]}${randomBytes(3).toString("hex")}-`;
  const buildPrefix = `op${label[0]}b${randomBytes(3).toString("hex")}`;
  const groupName = `outpost-test-e2e-${label}-${process.pid}`;
  const cleanups: (() => Promise<void>)[] = [];
  let tmp: string | undefined;
  let group: Cgroup | undefined;
  let master: ChildProcess | undefined;
  let agent: RunningAgent | undefined;
  let sim: RunningTurbineSim | undefined;
  let at: { listen: string; http: string } | undefined;
  let started: StartedMaster | undefined;
  let client: MasterClient | undefined;
  let postgres: PostgresServer | undefined;
  let pgUrl: string | undefined;
  let restorePassfile: (() => void) | undefined;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), `outpost-e2e-${label}-`));
    chmodSync(tmp, 0o711);
    group = Cgroup.own().createChild(groupName);
    if (store === "postgres") {
      postgres = await startPostgres();
      pgUrl = (await postgres.createDatabase()).url;
      // This process reads the store too (openStore), through the same password lookup.
      restorePassfile = usePassfile(postgres.passfile);
    }
  });

  after(async () => {
    await agent?.shutdown();
    if (master) await stopMasterProcess(master);
    for (const close of cleanups) await close();
    if (postgres) {
      await postgres.stop();
      restorePassfile?.();
    }
    await sim?.stop();
    if (group) await removeCgroupTree(group);
    for (const n of [1, 2]) removeSystemUser(`${userPrefix}${n}`);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`collector pipeline: ${what} first`);
    return value;
  };
  const data = () => join(need(tmp, "the before hook"), "master");

  return {
    get data() {
      return data();
    },
    get client() {
      return need(client, "startMaster()");
    },
    get sim() {
      return need(sim, "startCollector()");
    },
    async startMaster() {
      at ??= {
        listen: `tcp://127.0.0.1:${await freePort()}`,
        http: `127.0.0.1:${await freePort()}`,
      };
      const proc = startMasterProcess(
        data(),
        at,
        pgUrl && postgres ? { url: pgUrl, env: { PGPASSFILE: postgres.passfile } } : undefined,
      );
      master = proc.child;
      started = await proc.started;
      client ??= new MasterClient(started.url, openDataDir(data()).adminToken);
      return started;
    },
    async killMaster() {
      if (master) await stopMasterProcess(master, "SIGKILL");
    },
    async startCollector({ seed, masterEndpoint }) {
      const master = need(started, "startMaster()");
      const agentData = join(need(tmp, "the before hook"), "agent");
      const client = need(this.client, "startMaster()");
      await client.addNode("n1", loadOrCreateIdentity(agentData).publicKey);
      sim = await startTurbineSim({ seed, modbus: { host: "127.0.0.1", port: 0 } });
      agent = await startAgent({
        data: agentData,
        master: masterEndpoint ? await masterEndpoint(master.endpoint) : master.endpoint,
        masterKey: master.publicKey,
        name: "n1",
        partitions: 2,
        agentVersion: "0.0.0-test",
        logger,
        cgroupParent: groupName,
        userPrefix,
        buildAccountPrefix: buildPrefix,
        syncInterval: 0.5,
      });
      const release = join(repoRoot, "collector", "release", "software.yaml");
      await eventually("the agent's hello", 30_000, async () =>
        (await client.listNodes())[0]?.partitions === 2 ? true : undefined,
      );
      await client.supply("n1", release);
      await client.request({
        name: "collector",
        software: release,
        parameters: { modbus: `127.0.0.1:${sim.modbus?.port}`, interval: "200ms" },
      });
    },
    async openStore() {
      return pgUrl ? PgStore.open(pgUrl) : SqliteStore.open(openDataDir(data()).databasePath);
    },
    onCleanup(close) {
      cleanups.push(close);
    },
  };
}
