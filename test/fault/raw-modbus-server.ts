import { createServer, type Socket } from "node:net";

export interface RawRequest {
  tid: number;
  unit: number;
  fc: number;
  address: number;
  count: number;
  /** How many requests this server has seen before this one. */
  seq: number;
}

export interface RawServer {
  port: number;
  connections: number;
  requests: number;
  close(): Promise<void>;
}

/**
 * A Modbus TCP server that misbehaves on purpose: the test decides, per request, what
 * bytes (if any) go back and when. Frames requests by their MBAP length.
 */
export async function rawModbusServer(
  respond: (req: RawRequest, socket: Socket) => void,
): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const state: RawServer = {
    port: 0,
    connections: 0,
    requests: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let pending = Buffer.alloc(0);
    socket.on("data", (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 12) {
        const length = pending.readUInt16BE(4);
        if (pending.length < 6 + length) break;
        const frame = pending.subarray(0, 6 + length);
        pending = pending.subarray(6 + length);
        respond(
          {
            tid: frame.readUInt16BE(0),
            unit: frame[6] as number,
            fc: frame[7] as number,
            address: frame.readUInt16BE(8),
            count: frame.readUInt16BE(10),
            seq: state.requests++,
          },
          socket,
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.port = (server.address() as { port: number }).port;
  return state;
}

/** An MBAP frame around `pdu`. */
export function frame(tid: number, unit: number, pdu: readonly number[]): Buffer {
  const b = Buffer.alloc(7 + pdu.length);
  b.writeUInt16BE(tid, 0);
  b.writeUInt16BE(0, 2);
  b.writeUInt16BE(pdu.length + 1, 4);
  b[6] = unit;
  Buffer.from(pdu).copy(b, 7);
  return b;
}

/** A good FC 3/4 reply: every register holds `value`. */
export function registers(req: RawRequest, value: number): Buffer {
  const pdu = [req.fc, req.count * 2];
  for (let i = 0; i < req.count; i++) pdu.push((value >> 8) & 0xff, value & 0xff);
  return frame(req.tid, req.unit, pdu);
}
