import { connect, createServer, type Socket } from "node:net";

/**
 * A loopback TCP proxy in front of the master that makes the link misbehave on cue:
 * - `holdReplies()`: bytes from the master wait in the proxy while the node's still get
 *   through, so the master commits chunks whose acks the node never sees;
 * - `stallExisting()`: the connections open now stop moving bytes both ways, as a link
 *   whose peer vanished without a FIN does; new connections pass.
 */
export interface LinkProxy {
  port: number;
  /** Connections the proxy accepted so far. */
  connections(): number;
  holdReplies(): void;
  /** Lets held replies, and everything after them, through. */
  release(): void;
  stallExisting(): void;
  close(): Promise<void>;
}

export async function startLinkProxy(target: { host: string; port: number }): Promise<LinkProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const stalled: Socket[] = [];
  let holding = false;
  let accepted = 0;
  const server = createServer((client) => {
    accepted++;
    const upstream = connect(target);
    const pair = { client, upstream };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
    client.pipe(upstream);
    if (holding) upstream.pause();
    else upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    connections: () => accepted,
    holdReplies() {
      holding = true;
      for (const { client, upstream } of pairs) {
        upstream.unpipe(client);
        upstream.pause();
      }
    },
    release() {
      holding = false;
      for (const { client, upstream } of pairs) upstream.pipe(client);
    },
    stallExisting() {
      for (const pair of pairs) {
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
        pair.client.pause();
        pair.upstream.pause();
        stalled.push(pair.client, pair.upstream);
      }
      // Forgotten, so a later release() does not revive them.
      pairs.clear();
    },
    async close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      for (const socket of stalled) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
