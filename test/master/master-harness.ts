import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import {
  MasterClient,
  type MasterOptions,
  openDataDir,
  type RunningMaster,
  startMaster,
} from "../../master/index.js";
import {
  generateKeyPair,
  type KeyPair,
  NodeLink,
  type NodeLinkOptions,
} from "../../protocol/index.js";

/** What a test may choose of the master it runs. */
export type HarnessOptions = Pick<MasterOptions, "retention" | "store" | "nats">;

/** A real master on ephemeral loopback ports in a temporary data directory. */
export class MasterHarness {
  readonly dir = mkdtempSync(join(tmpdir(), "outpost-master-"));
  master!: RunningMaster;
  client!: MasterClient;
  private links: NodeLink[] = [];
  private options: HarnessOptions = {};

  /** Starts (again) with `options` (a retention policy, a store, NATS), kept for restarts. */
  async start(options: HarnessOptions = this.options): Promise<this> {
    this.options = options;
    this.master = await startMaster({
      ...options,
      data: this.dir,
      listen: "tcp://127.0.0.1:*",
      http: "127.0.0.1:0",
      logger: pino({ level: process.env.DEBUG_MASTER_LOG ?? "silent" }),
    });
    this.client = new MasterClient(this.master.url, openDataDir(this.dir).adminToken);
    return this;
  }

  async restart(): Promise<void> {
    await this.stopLinks();
    await this.master.close();
    await this.start();
  }

  /** Adds a node through the API and returns its key pair (generated "on the node"). */
  async addNode(name: string): Promise<KeyPair> {
    const keys = generateKeyPair();
    await this.client.addNode(name, keys.publicKey);
    return keys;
  }

  link(keys: KeyPair, timeoutMs = 5_000, options: Partial<NodeLinkOptions> = {}): NodeLink {
    const link = new NodeLink({
      endpoint: this.master.endpoint,
      masterPublicKey: this.master.publicKey,
      keyPair: keys,
      timeoutMs,
      ...options,
    });
    this.links.push(link);
    return link;
  }

  async stopLinks(): Promise<void> {
    await Promise.all(this.links.map((l) => l.close()));
    this.links = [];
  }

  async close(): Promise<void> {
    await this.stopLinks();
    await this.master?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const hello = {
  agentVersion: "0.1.0",
  arch: "x64",
  board: "generic-x86",
  cpus: 4,
  partitions: 2,
  isolatedCores: [2, 3],
};

export function chunk(chunkId: number, firstSeq = chunkId * 10, records = 10) {
  return {
    chunkId,
    stream: "turbine",
    schema: Buffer.from("fp"),
    createdAt: Date.now(),
    firstSeq,
    lastSeq: firstSeq + records - 1,
    records,
    compression: "none" as const,
    body: Buffer.from(`records of chunk ${chunkId}`),
  };
}
