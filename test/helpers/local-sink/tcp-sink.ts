import { connect, type Socket } from "node:net";
import type { LossEvent, OutboundChunk, Sink } from "../../../buffer/index.js";
import {
  decodeAck,
  encodeChunk,
  encodeLoss,
  FrameReader,
  frame,
  TYPE_ACK,
  TYPE_CHUNK,
  TYPE_LOSS,
} from "./protocol.js";

/**
 * The buffer's `Sink` over the local sink's TCP protocol. One connection, opened on
 * demand; any error or abort destroys it and fails every send waiting on it (the
 * forwarder retries). It has no retry or backoff of its own.
 */
export class TcpSink implements Sink {
  private socket: Socket | undefined;
  private readonly waiting = new Map<
    string,
    { resolve: () => void; reject: (err: Error) => void }[]
  >();

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  send(chunk: OutboundChunk, signal: AbortSignal): Promise<{ chunkId: number }> {
    return this.request(`c${chunk.chunkId}`, frame(TYPE_CHUNK, encodeChunk(chunk)), signal).then(
      () => ({
        chunkId: chunk.chunkId,
      }),
    );
  }

  sendLoss(loss: LossEvent, signal: AbortSignal): Promise<{ lossId: number }> {
    return this.request(`l${loss.id}`, frame(TYPE_LOSS, encodeLoss(loss)), signal).then(() => ({
      lossId: loss.id,
    }));
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private request(key: string, data: Buffer, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason as Error);
      const socket = this.connection();
      const entry = { resolve, reject };
      const list = this.waiting.get(key) ?? [];
      list.push(entry);
      this.waiting.set(key, list);
      signal.addEventListener("abort", () => socket.destroy(signal.reason as Error), {
        once: true,
      });
      socket.write(data);
    });
  }

  private connection(): Socket {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const socket = connect({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    const reader = new FrameReader();
    socket.on("data", (data: Buffer) => {
      for (const { type, payload } of reader.push(data)) {
        if (type !== TYPE_ACK) continue;
        const { kind, id } = decodeAck(payload);
        const key = `${kind === 1 ? "c" : "l"}${id}`;
        const list = this.waiting.get(key);
        this.waiting.delete(key);
        for (const w of list ?? []) w.resolve();
      }
    });
    const fail = (err?: Error) => {
      if (this.socket === socket) this.socket = undefined;
      const error = err ?? new Error("sink connection closed");
      for (const list of this.waiting.values()) for (const w of list) w.reject(error);
      this.waiting.clear();
    };
    socket.on("error", fail);
    socket.on("close", () => fail());
    this.socket = socket;
    return socket;
  }
}
