import {
  generateKeyPair,
  type KeyPair,
  NodeLink,
  type NodeLinkOptions,
  type NodeRequest,
  ProtocolServer,
  type ProtocolServerOptions,
  type RejectReason,
  type ReplyBody,
} from "../../protocol/index.js";

/** A real ProtocolServer on an ephemeral loopback port that admits `known` keys. */
export interface Harness {
  server: ProtocolServer;
  master: KeyPair;
  known: Set<string>;
  handled: NodeRequest[];
  rejected: RejectReason[];
  denied: string[];
  link(keyPair: KeyPair, options?: Partial<NodeLinkOptions>): NodeLink;
  close(): Promise<void>;
}

export async function startHarness(
  handle?: (request: NodeRequest) => Promise<ReplyBody>,
  options: Partial<ProtocolServerOptions> = {},
): Promise<Harness> {
  const master = options.keyPair ?? generateKeyPair();
  const known = new Set<string>();
  const handled: NodeRequest[] = [];
  const rejected: RejectReason[] = [];
  const denied: string[] = [];
  const links: NodeLink[] = [];
  const server = await ProtocolServer.listen({
    endpoint: "tcp://127.0.0.1:*",
    keyPair: master,
    authorize: (key) => known.has(key),
    handle: async (request) => {
      handled.push(request);
      if (handle) return handle(request);
      return echo(request);
    },
    observer: {
      rejected: (reason) => rejected.push(reason),
      denied: (key) => denied.push(key),
    },
    ...options,
  });
  return {
    server,
    master,
    known,
    handled,
    rejected,
    denied,
    link(keyPair, linkOptions = {}) {
      const link = new NodeLink({
        endpoint: server.endpoint,
        masterPublicKey: master.publicKey,
        keyPair,
        timeoutMs: 3_000,
        ...linkOptions,
      });
      links.push(link);
      return link;
    },
    async close() {
      await Promise.all(links.map((l) => l.close()));
      await server.close();
    },
  };
}

function echo(request: NodeRequest): ReplyBody {
  switch (request.type) {
    case "hello":
      return { type: "welcome", name: `node-${request.node.slice(0, 4)}` };
    case "sync":
      return { type: "desired", software: [], instances: [] };
    case "telemetry":
      return { type: "ack", chunkId: request.chunkId, duplicate: false };
    case "loss":
      return { type: "ack", lossId: request.lossId };
    default:
      return { type: "ack" };
  }
}

/** `random` for a link that starts on its first master endpoint; its jitter stays random. */
export function startOnFirst(): () => number {
  let calls = 0;
  return () => (calls++ === 0 ? 0 : Math.random());
}

export const sampleHello = {
  agentVersion: "0.1.0",
  arch: "x64",
  board: "generic-x86",
  cpus: 4,
  partitions: 4,
  isolatedCores: [2, 3],
};

export function sampleChunk(chunkId: number, firstSeq = chunkId * 10) {
  return {
    chunkId,
    stream: "turbine",
    schema: Buffer.from([1, 2, 3, 4]),
    createdAt: Date.now(),
    firstSeq,
    lastSeq: firstSeq + 9,
    records: 10,
    compression: "none" as const,
    body: Buffer.alloc(100, chunkId & 0xff),
  };
}

export { generateKeyPair };
