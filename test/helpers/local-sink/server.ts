import { open, readFile } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import {
  decodeChunk,
  encodeAck,
  FrameReader,
  frame,
  TYPE_ACK,
  TYPE_CHUNK,
  TYPE_LOSS,
} from "./protocol.js";
import { encodeEntry, parseLog, recordsOf, SINK_LOG } from "./store.js";

/**
 * A real receiving end for the forwarder, run as its own process:
 * `node --import tsx server.ts DIR [PORT]`. It appends what it receives to DIR/sink.log,
 * fdatasyncs (one sync for everything that arrived meanwhile), and only then acks;
 * a chunk or loss id it already holds is acked without being stored again. Prints
 * `{"port":N}` once listening on 127.0.0.1.
 */
const [dir, portArg] = process.argv.slice(2);
if (!dir) {
  process.stderr.write("usage: server.ts DIR [PORT]\n");
  process.exit(2);
}
const logPath = join(dir, SINK_LOG);
const existing = await readFile(logPath).catch(() => Buffer.alloc(0));
const recovered = parseLog(existing);
const stored = new Set<string>([
  ...recovered.chunks.map((c) => `c${c.chunkId}`),
  ...recovered.losses.map((l) => `l${l.id}`),
]);
const log = await open(logPath, "a+");
await log.truncate(recovered.validBytes);
let size = recovered.validBytes;

let queue: { key: string; entry: Buffer; done: (() => void)[] }[] = [];
const waiting = new Map<string, (() => void)[]>();
let flushing = false;

async function flush(): Promise<void> {
  if (flushing) return;
  flushing = true;
  while (queue.length > 0) {
    const batch = queue;
    queue = [];
    const data = Buffer.concat(batch.map((b) => b.entry));
    await log.write(data, 0, data.length, size);
    size += data.length;
    await log.datasync();
    for (const b of batch) {
      stored.add(b.key);
      waiting.delete(b.key);
      for (const done of b.done) done();
    }
  }
  flushing = false;
}

function receive(key: string, entry: () => Buffer, ack: () => void): void {
  if (stored.has(key)) {
    ack();
    return;
  }
  const pending = waiting.get(key);
  if (pending) {
    pending.push(ack);
    return;
  }
  const done = [ack];
  waiting.set(key, done);
  queue.push({ key, entry: entry(), done });
  setImmediate(() => {
    flush().catch((err: unknown) => {
      process.stderr.write(`sink: ${(err as Error).message}\n`);
      process.exit(1);
    });
  });
}

function serve(socket: Socket): void {
  const reader = new FrameReader();
  const reply = (kind: 1 | 2, id: number) => () => {
    if (!socket.destroyed) socket.write(frame(TYPE_ACK, encodeAck(kind, id)));
  };
  socket.on("error", () => undefined);
  socket.on("data", (data: Buffer) => {
    for (const { type, payload } of reader.push(data)) {
      if (type === TYPE_CHUNK) {
        const chunk = decodeChunk(payload);
        try {
          recordsOf(chunk);
        } catch (err) {
          process.stderr.write(
            `sink: rejected chunk ${chunk.chunkId}: ${(err as Error).message}\n`,
          );
          socket.destroy();
          return;
        }
        receive(
          `c${chunk.chunkId}`,
          () => encodeEntry(TYPE_CHUNK, Buffer.from(payload)),
          reply(1, chunk.chunkId),
        );
      } else if (type === TYPE_LOSS) {
        const loss = JSON.parse(payload.toString("utf8")) as { id: number };
        receive(
          `l${loss.id}`,
          () => encodeEntry(TYPE_LOSS, Buffer.from(payload)),
          reply(2, loss.id),
        );
      } else {
        socket.destroy();
        return;
      }
    }
  });
}

const server = createServer(serve);
server.listen(Number(portArg ?? 0), "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
process.on("SIGTERM", () => {
  server.close();
  log.close().finally(() => process.exit(0));
});
