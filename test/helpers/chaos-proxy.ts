import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy on loopback that makes a link misbehave: every connection is, at random
 * moments, either cut (both sides destroyed mid-stream) or stalled (both directions stop
 * moving bytes for a while, so the peer's ack timeout must fire). Some connections are
 * refused outright. Deterministic for a given seed.
 */
export interface ChaosOptions {
  seed: number;
  /** Mean time between faults on one connection, ms. */
  meanFaultMs: number;
  /** Longest stall, ms. */
  maxStallMs: number;
  /** Share of new connections dropped at once. */
  refuseShare: number;
}

export interface ChaosProxy {
  port: number;
  stats: { connections: number; refused: number; cuts: number; stalls: number };
  /** Stops making trouble: existing and new connections pass bytes untouched. */
  calm(): void;
  close(): Promise<void>;
}

export async function startChaosProxy(
  target: { host: string; port: number },
  options: ChaosOptions,
): Promise<ChaosProxy> {
  let seed = options.seed >>> 0;
  const random = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const stats = { connections: 0, refused: 0, cuts: 0, stalls: 0 };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let calm = false;
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const server: Server = createServer((client) => {
    stats.connections++;
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => undefined);
    if (!calm && random() < options.refuseShare) {
      stats.refused++;
      client.destroy();
      return;
    }
    const upstream = connect(target);
    sockets.add(upstream);
    upstream.on("close", () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    const fault = () => {
      if (calm || client.destroyed) return;
      if (random() < 0.5) {
        stats.cuts++;
        client.destroy();
        upstream.destroy();
        return;
      }
      stats.stalls++;
      client.pause();
      upstream.pause();
      later(Math.floor(random() * options.maxStallMs), () => {
        client.resume();
        upstream.resume();
        later(Math.floor(random() * 2 * options.meanFaultMs), fault);
      });
    };
    later(Math.floor(random() * 2 * options.meanFaultMs), fault);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    stats,
    calm() {
      calm = true;
      for (const s of sockets) s.resume();
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
