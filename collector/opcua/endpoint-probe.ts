import { connect } from "node:net";
import { OpcuaConnectionError } from "../errors.js";

const HEADER = 8;
/** An ACK: header, then protocol version, buffer sizes, max message size and chunk count. */
const ACK_SIZE = HEADER + 20;
/** An ERR carries a status code and a reason of at most 4,096 bytes (OPC-UA Part 6, 7.1.2.5). */
const MAX_ANSWER = HEADER + 8 + 4096;

/**
 * Whether an OPC-UA server answers at `endpoint`, at the cost of one TCP connection and
 * a Hello: connect, send HEL, read the ACK (or ERR: the server answered, whatever it
 * said; the session attempt that follows reports it), close. No certificate, no secure
 * channel, no node-opcua. Resolves once it answered; rejects with an
 * OpcuaConnectionError when the connection is refused or closed, the answer is not
 * OPC-UA, or nothing came within `timeoutMs` (a server that hangs with its port open:
 * the kernel accepts the connection, nobody answers the Hello).
 */
export function probeEndpoint(endpoint: string, timeoutMs: number): Promise<void> {
  const { host, port } = hostAndPort(endpoint);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    let settled = false;
    const done = (reason?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (reason === undefined) resolve();
      else reject(new OpcuaConnectionError(endpoint, reason));
    };
    const timer = setTimeout(
      () => done(`no answer to an OPC-UA Hello within ${timeoutMs} ms`),
      timeoutMs,
    );
    socket.setNoDelay(true);
    socket.once("connect", () => socket.write(hello(endpoint)));
    socket.on("error", (err: NodeJS.ErrnoException) =>
      done(`cannot connect (${err.code ?? err.message})`),
    );
    socket.on("close", () => done("connection closed before an answer to the Hello"));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < HEADER) return;
      const type = received.toString("latin1", 0, 4);
      const size = received.readUInt32LE(4);
      if ((type !== "ACKF" && type !== "ERRF") || size < HEADER || size > MAX_ANSWER) {
        done(
          `not an OPC-UA server (answered ${JSON.stringify(received.toString("latin1", 0, 4))})`,
        );
        return;
      }
      if (received.length < size) return;
      if (type === "ACKF" && size < ACK_SIZE) done(`short OPC-UA Acknowledge (${size} bytes)`);
      else done();
    });
  });
}

/** A HEL message asking for 64 KiB buffers and no limit on message size or chunks. */
function hello(endpoint: string): Buffer {
  const url = Buffer.from(endpoint, "utf8");
  const msg = Buffer.alloc(HEADER + 20 + 4 + url.length);
  msg.write("HELF", 0, "latin1");
  msg.writeUInt32LE(msg.length, 4);
  msg.writeUInt32LE(0, 8); // protocol version
  msg.writeUInt32LE(65_536, 12); // receive buffer size
  msg.writeUInt32LE(65_536, 16); // send buffer size
  msg.writeUInt32LE(0, 20); // max message size: no limit
  msg.writeUInt32LE(0, 24); // max chunk count: no limit
  msg.writeInt32LE(url.length, 28);
  url.copy(msg, 32);
  return msg;
}

function hostAndPort(endpoint: string): { host: string; port: number } {
  const url = new URL(endpoint);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port === "" ? 4840 : Number(url.port),
  };
}
