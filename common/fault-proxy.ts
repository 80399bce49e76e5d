import { connect, createServer, type Socket } from "node:net";
import { seededRandom } from "./seeded-random.js";

export interface FaultProxyOptions {
  /**
   * The whole link up `upMs`, then down `downMs`, on a cycle: going down cuts every
   * connection, and while down new ones are refused, like a cellular link in a storm.
   * `onChange` is told each flip.
   */
  cycle?: { upMs: number; downMs: number; onChange?: (up: boolean) => void };
  /**
   * Faults per connection, deterministic for a given `seed`: `refuseShare` of new
   * connections is dropped at once; each other one is, at random moments (every
   * `meanFaultMs` on average), either cut (both sides destroyed mid-stream) or stalled
   * (both directions stop moving bytes for up to `maxStallMs`, so a peer's ack timeout
   * must fire).
   */
  chaos?: { seed: number; meanFaultMs: number; maxStallMs: number; refuseShare: number };
}

export interface FaultProxy {
  /** The loopback port to connect to instead of the target. */
  port: number;
  /** `tcp://127.0.0.1:PORT`. */
  endpoint: string;
  /** False while a `cycle` holds the link down. */
  up(): boolean;
  /** Connections accepted, refused (down, or by chaos), cut and stalled so far. */
  stats: { connections: number; refused: number; cuts: number; stalls: number };
  /**
   * On cue: bytes from the target wait in the proxy (those of connections opened later
   * too) while the client's still get through, so the target acts on requests whose
   * answers the client never sees.
   */
  holdReplies(): void;
  /** Lets held replies, and everything after them, through. */
  release(): void;
  /**
   * On cue: the connections open now stop moving bytes both ways for good, as a link
   * whose peer vanished without a FIN does; new connections pass.
   */
  stallExisting(): void;
  /** Stops making trouble: the link stays up, replies flow, stalls end. */
  calm(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  /** Paused by a chaos stall, until it ends. */
  stalled: boolean;
}

/**
 * A TCP proxy on loopback between a client and `target` that makes the link misbehave as
 * `options` say, and on cue; with no option and no cue it only passes bytes. `outpost demo
 * --flaky` puts a cycle between agent and master; fault tests use chaos and the cues.
 * `target` may be a unix socket (`path`), as a PostgreSQL server's is.
 */
export async function startFaultProxy(
  target: { host: string; port: number } | { path: string },
  options: FaultProxyOptions = {},
): Promise<FaultProxy> {
  const { cycle, chaos } = options;
  const random = seededRandom(chaos?.seed ?? 0);
  const stats = { connections: 0, refused: 0, cuts: 0, stalls: 0 };
  const pairs = new Set<Pair>();
  /** Stalled for good by `stallExisting()`: only destroyed at close. */
  const frozen = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let up = true;
  let calm = false;
  let holding = false;
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  /** Bytes flow again both ways, except replies while they are held. */
  const flow = (pair: Pair) => {
    pair.stalled = false;
    pair.client.resume();
    if (holding) pair.upstream.pause();
    else pair.upstream.resume();
  };

  const server = createServer((client) => {
    stats.connections++;
    client.on("error", () => undefined);
    if (!up || (chaos && !calm && random() < chaos.refuseShare)) {
      stats.refused++;
      client.destroy();
      return;
    }
    const upstream = connect(target);
    const pair: Pair = { client, upstream, stalled: false };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end);
    upstream.on("close", end);
    upstream.on("error", end);
    client.pipe(upstream);
    if (holding) upstream.pause();
    else upstream.pipe(client);
    if (!chaos) return;
    const fault = () => {
      if (calm || client.destroyed) return;
      if (random() < 0.5) {
        stats.cuts++;
        end();
        return;
      }
      stats.stalls++;
      pair.stalled = true;
      client.pause();
      upstream.pause();
      later(Math.floor(random() * chaos.maxStallMs), () => {
        flow(pair);
        later(Math.floor(random() * 2 * chaos.meanFaultMs), fault);
      });
    };
    later(Math.floor(random() * 2 * chaos.meanFaultMs), fault);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  if (cycle) {
    const flip = () => {
      if (calm) return;
      up = !up;
      if (!up) {
        for (const { client, upstream } of pairs) {
          client.destroy();
          upstream.destroy();
        }
      }
      cycle.onChange?.(up);
      later(up ? cycle.upMs : cycle.downMs, flip);
    };
    later(cycle.upMs, flip);
  }
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const release = () => {
    holding = false;
    for (const pair of pairs) {
      pair.upstream.pipe(pair.client);
      if (pair.stalled) pair.upstream.pause();
    }
  };
  return {
    port,
    endpoint: `tcp://127.0.0.1:${port}`,
    up: () => up,
    stats,
    holdReplies() {
      holding = true;
      for (const { client, upstream } of pairs) {
        upstream.unpipe(client);
        upstream.pause();
      }
    },
    release,
    stallExisting() {
      for (const pair of pairs) {
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
        pair.client.pause();
        pair.upstream.pause();
        frozen.add(pair.client).add(pair.upstream);
      }
      // Forgotten, so neither release() nor calm() revives them.
      pairs.clear();
    },
    calm() {
      calm = true;
      if (holding) release();
      for (const pair of pairs) flow(pair);
      if (!up) {
        up = true;
        cycle?.onChange?.(true);
      }
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      for (const socket of frozen) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
