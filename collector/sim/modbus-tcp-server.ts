import { createServer, type Server, type Socket } from "node:net";
import type { RegisterImage } from "./register-image.js";

const ILLEGAL_FUNCTION = 1;
const ILLEGAL_ADDRESS = 2;
const ILLEGAL_VALUE = 3;

/**
 * The simulator's Modbus TCP server: MBAP framing, FC 1/2/3/4 reads and 5/6/15/16
 * writes on a RegisterImage, any unit id. Its own rather than modbus-serial's ServerTCP,
 * which cannot listen on an ephemeral port (it turns port 0 into 502) and calls back
 * once per register, too slow for the 10,000 requests/s of the uncoalesced bench.
 */
export class ModbusTcpServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private closing = false;
  requests = 0;

  constructor(private readonly image: RegisterImage) {
    this.server = createServer((socket) => this.serve(socket));
  }

  listen(port: number, host: string): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        const a = this.server.address() as { address: string; port: number };
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  /**
   * Stops answering, lets the replies already written reach their clients (a sample
   * number handed out is never lost in the server), then closes.
   */
  close(): Promise<void> {
    this.closing = true;
    for (const s of this.sockets) s.end();
    const stragglers = setTimeout(() => {
      for (const s of this.sockets) s.destroy();
    }, 1000);
    return new Promise((resolve) =>
      this.server.close(() => {
        clearTimeout(stragglers);
        resolve();
      }),
    );
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    socket.on("data", (data: Buffer) => {
      if (this.closing) return;
      pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
      while (pending.length >= 8) {
        const length = pending.readUInt16BE(4);
        if (length < 2 || length > 254) {
          socket.destroy();
          return;
        }
        if (pending.length < 6 + length) break;
        const frame = pending.subarray(0, 6 + length);
        pending = pending.subarray(6 + length);
        const pdu = this.answer(frame.subarray(7));
        const reply = Buffer.alloc(7 + pdu.length);
        frame.copy(reply, 0, 0, 4);
        reply.writeUInt16BE(pdu.length + 1, 4);
        reply[6] = frame[6] as number;
        pdu.copy(reply, 7);
        socket.write(reply);
        this.requests++;
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => this.sockets.delete(socket));
  }

  private answer(pdu: Buffer): Buffer {
    const fc = pdu[0] ?? 0;
    const fail = (code: number) => Buffer.from([fc | 0x80, code]);
    if (pdu.length < 5) return fail(ILLEGAL_VALUE);
    const address = pdu.readUInt16BE(1);
    const countOrValue = pdu.readUInt16BE(3);
    switch (fc) {
      case 1:
      case 2: {
        const count = countOrValue;
        if (count < 1 || count > 2000) return fail(ILLEGAL_VALUE);
        if (address + count > 65536) return fail(ILLEGAL_ADDRESS);
        const bits = fc === 1 ? this.image.coils : this.image.discrete;
        const out = Buffer.alloc(2 + Math.ceil(count / 8));
        out[0] = fc;
        out[1] = out.length - 2;
        for (let i = 0; i < count; i++) {
          if (bits[address + i]) out[2 + (i >> 3)] = (out[2 + (i >> 3)] as number) | (1 << (i & 7));
        }
        return out;
      }
      case 3:
      case 4: {
        const count = countOrValue;
        if (count < 1 || count > 125) return fail(ILLEGAL_VALUE);
        if (address + count > 65536) return fail(ILLEGAL_ADDRESS);
        this.image.beforeRead(address, count);
        const table = fc === 3 ? this.image.holding : this.image.input;
        const out = Buffer.alloc(2 + count * 2);
        out[0] = fc;
        out[1] = count * 2;
        for (let i = 0; i < count; i++) out.writeUInt16BE(table[address + i] as number, 2 + i * 2);
        return out;
      }
      case 5:
        if (countOrValue !== 0xff00 && countOrValue !== 0) return fail(ILLEGAL_VALUE);
        this.image.coils[address] = countOrValue === 0xff00 ? 1 : 0;
        return Buffer.from(pdu.subarray(0, 5));
      case 6:
        this.image.holding[address] = countOrValue;
        return Buffer.from(pdu.subarray(0, 5));
      case 15:
      case 16: {
        const count = countOrValue;
        const bytes = pdu[5] ?? 0;
        if (pdu.length < 6 + bytes || count < 1) return fail(ILLEGAL_VALUE);
        if (address + count > 65536) return fail(ILLEGAL_ADDRESS);
        for (let i = 0; i < count; i++) {
          if (fc === 15) {
            this.image.coils[address + i] = ((pdu[6 + (i >> 3)] as number) >> (i & 7)) & 1;
          } else {
            this.image.holding[address + i] = pdu.readUInt16BE(6 + i * 2);
          }
        }
        return Buffer.from(pdu.subarray(0, 5));
      }
      default:
        return fail(ILLEGAL_FUNCTION);
    }
  }
}
