import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { DiskBuffer } from "../../buffer/buffer.js";
import { resolveConfig } from "../../buffer/config.js";
import { Forwarder } from "../../buffer/forwarder.js";
import type { LossEvent } from "../../buffer/loss.js";
import type { OutboundChunk, Sink } from "../../buffer/sink.js";
import { scanFrames } from "../../common/record-frame.js";
import type { Backlog } from "../../protocol/index.js";
import { until } from "../helpers/until.js";

/**
 * An in-process receiver that keeps what it is sent, answers after a delay, fails the
 * first `failures` sends, and records how many sends were in flight at once.
 */
class MemorySink implements Sink {
  chunks: OutboundChunk[] = [];
  losses: LossEvent[] = [];
  inFlight = 0;
  peakInFlight = 0;
  attempts = 0;
  /** Each send's `waiting`, with the records in flight (this one included) when it came. */
  told: { waiting: Backlog | undefined; inFlight: number }[] = [];
  private inFlightRecords = 0;

  constructor(
    private failures = 0,
    private readonly delayMs = 5,
    private readonly wrongAck = false,
  ) {}

  async send(
    chunk: OutboundChunk,
    signal: AbortSignal,
    waiting?: Backlog,
  ): Promise<{ chunkId: number }> {
    this.attempts++;
    this.inFlight++;
    this.inFlightRecords += chunk.records;
    this.told.push({ waiting, inFlight: this.inFlightRecords });
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    try {
      await new Promise((r) => setTimeout(r, this.delayMs));
      signal.throwIfAborted();
      if (this.failures > 0) {
        this.failures--;
        throw Object.assign(new Error("connection reset"), { code: "ECONNRESET" });
      }
      if (!this.chunks.some((c) => c.chunkId === chunk.chunkId)) this.chunks.push(chunk);
      return { chunkId: this.wrongAck ? chunk.chunkId + 1 : chunk.chunkId };
    } finally {
      this.inFlight--;
      this.inFlightRecords -= chunk.records;
    }
  }

  async sendLoss(loss: LossEvent): Promise<{ lossId: number }> {
    this.losses.push(loss);
    return { lossId: loss.id };
  }

  async close(): Promise<void> {}
}

describe("buffer/forwarder", () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-forwarder-"));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  async function filled(forward: Parameters<typeof resolveConfig>[0]["forward"] = {}) {
    const config = resolveConfig({
      dir: join(work, "buf"),
      defaults: { sealBytes: 256, fsync: "never" },
      streams: { alarms: { priority: 1 } },
      forward: { window: 3, backoffBaseMs: 5, backoffCapMs: 20, ...forward },
    });
    const buffer = await DiskBuffer.open(config);
    for (let i = 0; i < 40; i++)
      await buffer.append(i % 4 ? "bulk" : "alarms", [Buffer.from(`r${i}`.padEnd(60))]);
    await buffer.sealAll();
    return { buffer, config };
  }

  it("delivers every chunk in order per stream, never more than `window` at once, and deletes each after its ack", async () => {
    const { buffer, config } = await filled();
    const chunks = buffer.metrics().backlogChunks;
    const sink = new MemorySink();
    const forwarder = new Forwarder(buffer, sink, config.forward);
    forwarder.start();
    await until(() => buffer.metrics().backlogChunks === 0, 5000, "not drained");
    await forwarder.stop();
    assert.equal(sink.chunks.length, chunks);
    assert.ok(sink.peakInFlight <= 3, `${sink.peakInFlight} in flight`);
    assert.ok(sink.peakInFlight > 1, "never used the window");
    for (const stream of ["alarms", "bulk"]) {
      const ids = sink.chunks.filter((c) => c.stream === stream).map((c) => c.firstSeq);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
      );
    }
    assert.equal(buffer.metrics().deliveredRecords, 40);
    await buffer.close();
  });

  it("tells the sink with each send what waits besides the sends in flight: 0 with the last", async () => {
    const { buffer, config } = await filled({ window: 1 });
    const sink = new MemorySink(0, 20);
    const forwarder = new Forwarder(buffer, sink, config.forward);
    forwarder.start();
    await until(() => buffer.metrics().backlogChunks === 0, 5000, "not drained");
    await forwarder.stop();
    const first = sink.told[0];
    // Whatever is not in flight waits: together, the whole backlog, each time.
    for (const [i, t] of sink.told.entries()) {
      const delivered = sink.chunks.slice(0, i).reduce((n, c) => n + c.records, 0);
      assert.equal((t.waiting?.records ?? 0) + t.inFlight, 40 - delivered, `send ${i}`);
    }
    assert.equal((first?.waiting?.records ?? 0) + (first?.inFlight ?? 0), 40);
    assert.ok((first?.waiting?.bytes ?? 0) > 0);
    assert.ok(sink.told.every((t) => t.waiting !== undefined));
    assert.deepEqual(sink.told.at(-1)?.waiting?.records, 0, "nothing behind the last chunk");
    await buffer.close();
  });

  it("retries failed sends until they succeed, losing nothing", async () => {
    const { buffer, config } = await filled();
    const sink = new MemorySink(7);
    const forwarder = new Forwarder(buffer, sink, config.forward);
    forwarder.start();
    await until(() => buffer.metrics().backlogChunks === 0, 10_000, "not drained");
    await forwarder.stop();
    assert.equal(
      sink.chunks.reduce((n, c) => n + c.records, 0),
      40,
    );
    assert.ok(buffer.metrics().retries >= 7);
    await buffer.close();
  });

  it("treats an ack for another chunk id as a failure and keeps the chunk", async () => {
    const { buffer, config } = await filled();
    const forwarder = new Forwarder(buffer, new MemorySink(0, 1, true), config.forward);
    forwarder.start();
    await until(() => buffer.metrics().retries >= 3, 5000, "never retried");
    await forwarder.stop();
    assert.equal(buffer.metrics().deliveredChunks, 0);
    await buffer.close();
  });

  it("abandons a send past ackTimeoutMs and retries it", async () => {
    const { buffer, config } = await filled({ ackTimeoutMs: 20 });
    const forwarder = new Forwarder(buffer, new MemorySink(0, 200), config.forward);
    forwarder.start();
    await until(() => buffer.metrics().retries >= 2, 5000, "timeouts never retried");
    await forwarder.stop();
    assert.equal(buffer.metrics().deliveredChunks, 0);
    await buffer.close();
  });

  it("deflates chunk bodies when compression is deflate", async () => {
    const { buffer, config } = await filled({ compression: "deflate" });
    const sink = new MemorySink();
    const forwarder = new Forwarder(buffer, sink, config.forward);
    forwarder.start();
    await until(() => buffer.metrics().backlogChunks === 0, 5000, "not drained");
    await forwarder.stop();
    for (const c of sink.chunks) {
      assert.equal(c.compression, "deflate");
      const frames = scanFrames(inflateSync(c.body), 0, 1 << 20);
      assert.equal(frames.records.length, c.records);
    }
    await buffer.close();
  });

  it("reports loss events to the sink and forgets them once acknowledged", async () => {
    const config = resolveConfig({
      dir: join(work, "buf"),
      maxBytes: 1024,
      defaults: { sealBytes: 256, fsync: "never", overflow: "drop_oldest" },
      forward: { backoffBaseMs: 5, backoffCapMs: 20 },
    });
    const buffer = await DiskBuffer.open(config);
    for (let i = 0; i < 40; i++) await buffer.append("bulk", [Buffer.from(`r${i}`.padEnd(60))]);
    const dropped = buffer.metrics().droppedRecords;
    assert.ok(dropped > 0);
    const sink = new MemorySink();
    const forwarder = new Forwarder(buffer, sink, config.forward);
    forwarder.start();
    await until(() => buffer.metrics().pendingLossEvents === 0, 5000, "losses never reported");
    await forwarder.stop();
    assert.equal(
      sink.losses.reduce((n, l) => n + l.records, 0),
      dropped,
    );
    await buffer.close();
  });

  it("sends a defined schema once before the first chunk carrying it; retries a failed send; refused, the chunks go anyway", async () => {
    const config = resolveConfig({
      dir: join(work, "buf"),
      defaults: { sealBytes: 256, fsync: "never" },
      forward: { window: 3, backoffBaseMs: 5, backoffCapMs: 20 },
    });
    const a = Buffer.from("aa", "hex");
    const b = Buffer.from("bb", "hex");
    const undefinedFp = Buffer.from("cc", "hex");
    let buffer = await DiskBuffer.open(config);
    await buffer.defineSchema(a, "schema A");
    await buffer.defineSchema(b, "schema B");
    await buffer.close();
    // Defined once, kept on disk: a later process (a later forwarder) knows the texts.
    buffer = await DiskBuffer.open(config);
    assert.equal(buffer.schemaText(a), "schema A");
    for (let i = 0; i < 30; i++)
      await buffer.append("s", [Buffer.from(`r${i}`.padEnd(60))], {
        schema: [a, b, undefinedFp][i % 3],
      });
    await buffer.sealAll();
    const events: string[] = [];
    let failSchemas = 2;
    const sink = new MemorySink();
    const send = sink.send.bind(sink);
    sink.send = (chunk, signal, waiting) => {
      events.push(`chunk:${Buffer.from(chunk.schema).toString("hex")}`);
      return send(chunk, signal, waiting);
    };
    const withSchemas: Sink = Object.assign(sink, {
      async sendSchema({ fingerprint, schema }: { fingerprint: Uint8Array; schema: string }) {
        const fp = Buffer.from(fingerprint).toString("hex");
        if (failSchemas-- > 0) throw Object.assign(new Error("link down"), { code: "ECONNRESET" });
        events.push(`schema:${fp}:${schema}`);
        return fp === "bb" ? { refused: "too deep" } : {};
      },
    });
    const forwarder = new Forwarder(buffer, withSchemas, config.forward);
    forwarder.start();
    await until(() => buffer.metrics().backlogChunks === 0, 5000, "not drained");
    await forwarder.stop();
    const schemas = events.filter((e) => e.startsWith("schema:"));
    assert.deepEqual(schemas.sort(), ["schema:aa:schema A", "schema:bb:schema B"]);
    for (const fp of ["aa", "bb"])
      assert.ok(
        events.indexOf(`schema:${fp}:schema ${fp === "aa" ? "A" : "B"}`) <
          events.indexOf(`chunk:${fp}`),
        `schema ${fp} before its first chunk`,
      );
    assert.ok(events.includes("chunk:cc"), "a fingerprint without a text goes alone");
    assert.equal(
      sink.chunks.reduce((n, c) => n + c.records, 0),
      30,
    );
    await buffer.close();
  });
});
