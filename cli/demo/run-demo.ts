import { chmodSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  checkTraversable,
  loadOrCreateIdentity,
  startAgent,
  type Uninstalled,
  uninstallAgent,
} from "../../agent/index.js";
import { startTurbineSim } from "../../collector/index.js";
import { type Logger, startFaultProxy } from "../../common/index.js";
import { openDataDir, placeInstance, startMaster } from "../../master/index.js";
import { packageInfo } from "../package-info.js";

export interface DemoOptions {
  dir: string;
  http: string;
  /** Put a link that goes up and down on this cycle between agent and master. */
  flaky?: { upMs: number; downMs: number };
  logger: Logger;
  /** Told the status page URL once everything runs. */
  ready: (info: DemoInfo) => void;
  /** Resolves when the demo should stop (Ctrl-C). */
  until: Promise<void>;
}

export interface DemoInfo {
  statusUrl: string;
  apiUrl: string;
  token: string;
  dir: string;
  modbus: string;
}

const NODE = "demo";
const INSTANCE = "collector";

/**
 * The whole stack on one box, on embedded defaults: a master (SQLite) in DIR/master, an
 * agent in DIR/agent, the turbine simulator, and the collector release requested
 * through the master into a partition, whose records the agent forwards back to the
 * master. A second run reuses DIR: same keys, node and instance.
 */
/**
 * `outpost demo --reset`: the demo's agent uninstalled (groups, accounts, machine
 * settings) and its state directory removed.
 */
export async function resetDemo(dir: string): Promise<Uninstalled> {
  const done = await uninstallAgent(join(resolve(dir), "agent"));
  rmSync(resolve(dir), { recursive: true, force: true });
  return done;
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const dir = resolve(options.dir);
  if (process.getuid?.() === 0) {
    // The collector runs as a partition user: it must reach this checkout's dist/.
    try {
      checkTraversable(packageInfo.root);
    } catch (err) {
      throw new Error(
        `demo: the collector runs as a partition user and cannot reach ${packageInfo.root} (${(err as Error).message}); clone Outpost where other users can read it (e.g. /opt/outpost), or run the demo as a normal user`,
      );
    }
  }
  mkdirSync(dir, { recursive: true });
  // Partition users must traverse it to reach their partitions.
  chmodSync(dir, 0o711);
  const logger = options.logger;
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        logger.warn({ err }, "demo.stop_failed");
      }
    }
  };
  try {
    const master = await startMaster({
      data: join(dir, "master"),
      listen: "tcp://127.0.0.1:*",
      http: options.http,
      logger,
    });
    stops.push(() => master.close());
    const token = openDataDir(join(dir, "master")).adminToken;
    const identity = loadOrCreateIdentity(join(dir, "agent"));
    if (!(await master.store.getNode(NODE)))
      await master.store.addNode(NODE, identity.publicKey, Date.now());

    const sim = await startTurbineSim({ seed: 1, modbus: { host: "127.0.0.1", port: 0 } });
    stops.push(() => sim.stop());
    const modbus = `127.0.0.1:${sim.modbus?.port}`;

    const port = Number(/:(\d+)$/.exec(master.endpoint)?.[1]);
    let endpoint = master.endpoint;
    if (options.flaky) {
      const link = await startFaultProxy(
        { host: "127.0.0.1", port },
        {
          cycle: {
            ...options.flaky,
            onChange: (up) => logger.warn({ up }, up ? "demo.link_up" : "demo.link_down"),
          },
        },
      );
      stops.push(() => link.close());
      endpoint = link.endpoint;
    }

    const agent = await startAgent({
      data: join(dir, "agent"),
      master: endpoint,
      masterKey: master.publicKey,
      name: NODE,
      partitions: 2,
      agentVersion: packageInfo.version,
      syncInterval: 1,
      logger,
    });
    // Stopped, the demo leaves no group behind; its accounts stay for the next run
    // (`outpost demo --reset` removes them too).
    stops.push(() => agent.shutdown({ removeGroups: true }));

    const release = join(packageInfo.root, "collector", "release", "software.yaml");
    const cli = join(packageInfo.root, "dist", "cli", "main.js");
    if (!existsSync(cli))
      throw new Error(`${cli} is missing: run \`npm install\` (it builds dist/)`);
    await master.store.supply(NODE, release, Date.now());
    const parameters = { modbus };
    await waitFor("the agent's hello", 30_000, async () => {
      const node = await master.store.getNode(NODE);
      return (node?.partitions ?? 0) > 0;
    });
    // Requesting it again updates a kept instance to this run's simulator address and,
    // from another checkout, switches it to that checkout's release with its buffer kept.
    await master.store.requestInstance(
      { name: INSTANCE, software: release, parameters, node: NODE, cores: 0 },
      placeInstance,
      Date.now(),
    );
    const apiUrl = master.url;
    options.ready({ statusUrl: `${apiUrl}/#token=${token}`, apiUrl, token, dir, modbus });
    await options.until;
  } finally {
    await stopAll();
  }
}

async function waitFor(what: string, timeoutMs: number, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`demo: no ${what} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
