import { connect, createServer, type Socket } from "node:net";

export interface FlakyLinkOptions {
  /** How long the link stays up, then down, ms. */
  upMs: number;
  downMs: number;
  /** Told when the link goes down or comes back. */
  onChange?: (up: boolean) => void;
}

export interface FlakyLink {
  /** `tcp://127.0.0.1:PORT`: where the agent connects instead of the master. */
  endpoint: string;
  up(): boolean;
  close(): Promise<void>;
}

/**
 * A TCP proxy on loopback that takes the agent↔master link down on a cycle: while down,
 * every connection is cut and new ones are refused, like a cellular link in a storm.
 * `outpost demo --flaky` puts it in the way so the buffer's backlog grows and drains.
 */
export async function startFlakyLink(
  target: { host: string; port: number },
  options: FlakyLinkOptions,
): Promise<FlakyLink> {
  const sockets = new Set<Socket>();
  let up = true;
  const server = createServer((client) => {
    client.on("error", () => undefined);
    if (!up) {
      client.destroy();
      return;
    }
    const upstream = connect(target);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    }
    upstream.on("error", () => client.destroy());
    upstream.on("close", () => client.destroy());
    client.on("close", () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  let timer: NodeJS.Timeout;
  const flip = () => {
    up = !up;
    if (!up) for (const s of sockets) s.destroy();
    options.onChange?.(up);
    timer = setTimeout(flip, up ? options.upMs : options.downMs);
  };
  timer = setTimeout(flip, options.upMs);
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    endpoint: `tcp://127.0.0.1:${port}`,
    up: () => up,
    async close() {
      clearTimeout(timer);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
