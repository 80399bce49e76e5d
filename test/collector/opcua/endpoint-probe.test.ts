import { strict as assert } from "node:assert";
import { once } from "node:events";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { probeEndpoint } from "../../../collector/opcua/endpoint-probe.js";

/** A loopback server that does `answer` with each connection and keeps what it received. */
async function listen(answer: (socket: Socket, hello: Buffer) => void): Promise<{
  server: Server;
  endpoint: string;
  received: Buffer[];
}> {
  const received: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.once("data", (hello) => {
      received.push(hello);
      answer(socket, hello);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const close = server.close.bind(server);
  server.close = (cb) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  };
  const { port } = server.address() as AddressInfo;
  return { server, endpoint: `opc.tcp://127.0.0.1:${port}/UA/Server`, received };
}

function ack(): Buffer {
  const msg = Buffer.alloc(28);
  msg.write("ACKF", 0, "latin1");
  msg.writeUInt32LE(28, 4);
  msg.writeUInt32LE(0, 8);
  msg.writeUInt32LE(65_536, 12);
  msg.writeUInt32LE(65_536, 16);
  return msg;
}

describe("probeEndpoint: an OPC-UA Hello against real sockets", () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    server = undefined;
  });

  it("sends a Hello naming the endpoint and passes on the server's Acknowledge, even in pieces", async () => {
    const s = await listen((socket) => {
      const bytes = ack();
      socket.write(bytes.subarray(0, 5));
      setTimeout(() => socket.write(bytes.subarray(5)), 50);
    });
    server = s.server;
    await probeEndpoint(s.endpoint, 2000);
    const hello = s.received[0] as Buffer;
    assert.equal(hello.toString("latin1", 0, 4), "HELF");
    assert.equal(hello.readUInt32LE(4), hello.length);
    assert.equal(hello.readInt32LE(28), s.endpoint.length);
    assert.equal(hello.toString("utf8", 32), s.endpoint);
  });

  it("passes on an Error answer: the server is up, the session attempt reports what it said", async () => {
    const s = await listen((socket) => {
      const msg = Buffer.alloc(16);
      msg.write("ERRF", 0, "latin1");
      msg.writeUInt32LE(16, 4);
      msg.writeUInt32LE(0x80_83_00_00, 8); // BadTcpEndpointUrlInvalid
      msg.writeInt32LE(-1, 12);
      socket.write(msg);
    });
    server = s.server;
    await probeEndpoint(s.endpoint, 2000);
  });

  it("refuses a server that answers something other than OPC-UA", async () => {
    const s = await listen((socket) => socket.write("HTTP/1.1 400 Bad Request\r\n\r\n"));
    server = s.server;
    await assert.rejects(probeEndpoint(s.endpoint, 2000), {
      code: "E_OPCUA_CONNECTION",
      message: /not an OPC-UA server \(answered "HTTP"\)/,
    });
  });

  it("refuses an Acknowledge shorter than the protocol's", async () => {
    const s = await listen((socket) => {
      const short = ack().subarray(0, 12);
      short.writeUInt32LE(12, 4);
      socket.write(short);
    });
    server = s.server;
    await assert.rejects(probeEndpoint(s.endpoint, 2000), /short OPC-UA Acknowledge \(12 bytes\)/);
  });

  it("fails when the server closes the connection without answering", async () => {
    const s = await listen((socket) => socket.end());
    server = s.server;
    await assert.rejects(probeEndpoint(s.endpoint, 2000), /connection closed before an answer/);
  });

  it("fails within its timeout when the connection is accepted but nobody answers (a hung server)", async () => {
    const s = await listen(() => {});
    server = s.server;
    const t0 = Date.now();
    await assert.rejects(
      probeEndpoint(s.endpoint, 300),
      /no answer to an OPC-UA Hello within 300 ms/,
    );
    const took = Date.now() - t0;
    assert.ok(took >= 290 && took < 1000, `gave up after ${took} ms`);
  });

  it("fails at once when nothing listens", async () => {
    const s = await listen(() => {});
    const { endpoint } = s;
    await new Promise((r) => s.server.close(r));
    const t0 = Date.now();
    await assert.rejects(probeEndpoint(endpoint, 5000), {
      code: "E_OPCUA_CONNECTION",
      message: /cannot connect \(ECONNREFUSED\)/,
    });
    assert.ok(Date.now() - t0 < 1000);
  });
});
