import { strict as assert } from "node:assert";
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { type FaultProxy, startFaultProxy } from "../../common/index.js";
import { until } from "../helpers/until.js";

/** An echo server on loopback. */
async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    s.on("error", () => undefined);
    s.pipe(s);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  return { server, port: typeof address === "object" && address ? address.port : 0 };
}

async function roundTrip(port: number, text: string): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  socket.write(text);
  const [data] = (await once(socket, "data")) as [Buffer];
  socket.destroy();
  return data.toString();
}

describe("common/fault-proxy", function () {
  this.timeout(20_000);
  let echo: { server: Server; port: number };
  let proxy: FaultProxy | undefined;

  beforeEach(async () => {
    echo = await echoServer();
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    echo.server.close();
  });

  it("with no faults asked for, passes bytes both ways", async () => {
    proxy = await startFaultProxy({ host: "127.0.0.1", port: echo.port }, {});
    assert.equal(proxy.endpoint, `tcp://127.0.0.1:${proxy.port}`);
    assert.equal(await roundTrip(proxy.port, "hello"), "hello");
    assert.deepEqual(proxy.stats, { connections: 1, refused: 0, cuts: 0, stalls: 0 });
  });

  it("a cycle cuts open connections when it goes down, refuses new ones, then comes back", async () => {
    const flips: boolean[] = [];
    proxy = await startFaultProxy(
      { host: "127.0.0.1", port: echo.port },
      { cycle: { upMs: 300, downMs: 1500, onChange: (up) => flips.push(up) } },
    );
    const open: Socket = connect(proxy.port, "127.0.0.1");
    open.on("error", () => undefined);
    await once(open, "connect");
    const p = proxy;
    await until(() => !p.up(), 5000, "the link never went down");
    await until(() => open.destroyed || open.readableEnded, 5000, "an open connection survived");
    const refused = connect(proxy.port, "127.0.0.1");
    refused.on("error", () => undefined);
    await once(refused, "close");
    assert.ok(proxy.stats.refused >= 1);
    await until(() => p.up(), 5000, "the link never came back");
    p.calm(); // no more cycles: the round trip below must not meet the next one
    assert.equal(await roundTrip(proxy.port, "again"), "again");
    assert.deepEqual(flips, [false, true]);
  });

  it("on cue, holds the target's replies while the client's bytes get through, then releases them", async () => {
    let received = "";
    const target = createServer((s) => {
      s.on("error", () => undefined);
      s.on("data", (d) => {
        received += d.toString();
        s.write(`ack ${d}`);
      });
    });
    target.listen(0, "127.0.0.1");
    await once(target, "listening");
    const address = target.address();
    const port = typeof address === "object" && address ? address.port : 0;
    proxy = await startFaultProxy({ host: "127.0.0.1", port });
    const client = connect(proxy.port, "127.0.0.1");
    await once(client, "connect");
    let replies = "";
    client.on("data", (d) => {
      replies += d.toString();
    });
    proxy.holdReplies();
    client.write("one");
    await until(() => received === "one", 5000, "the request never reached the target");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(replies, "", "a reply got through the hold");
    proxy.release();
    await until(() => replies === "ack one", 5000, "the held reply never came");
    client.destroy();
    target.close();
  });

  it("on cue, stalls the open connections for good while new ones pass", async () => {
    proxy = await startFaultProxy({ host: "127.0.0.1", port: echo.port });
    const old = connect(proxy.port, "127.0.0.1");
    old.on("error", () => undefined);
    await once(old, "connect");
    let echoed = "";
    old.on("data", (d) => {
      echoed += d.toString();
    });
    await until(() => proxy?.stats.connections === 1, 5000, "the proxy never saw the client");
    proxy.stallExisting();
    old.write("lost");
    assert.equal(await roundTrip(proxy.port, "fresh"), "fresh");
    proxy.calm();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(echoed, "", "a stalled connection moved bytes");
    old.destroy();
  });

  it("chaos refuses, cuts and stalls connections until calmed", async () => {
    proxy = await startFaultProxy(
      { host: "127.0.0.1", port: echo.port },
      { chaos: { seed: 7, meanFaultMs: 20, maxStallMs: 50, refuseShare: 0.3 } },
    );
    const p = proxy;
    const sockets: Socket[] = [];
    for (let i = 0; i < 20; i++) {
      const s = connect(p.port, "127.0.0.1");
      s.on("error", () => undefined);
      s.on("data", () => undefined);
      sockets.push(s);
    }
    await until(
      () => p.stats.refused > 0 && p.stats.cuts > 0 && p.stats.stalls > 0,
      10_000,
      `no mix of faults: ${JSON.stringify(p.stats)}`,
    );
    for (const s of sockets) s.destroy();
    p.calm();
    const before = { ...p.stats };
    assert.equal(await roundTrip(p.port, "calm"), "calm");
    assert.equal(p.stats.refused, before.refused);
  });
});
