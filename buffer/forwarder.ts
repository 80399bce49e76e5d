import { promisify } from "node:util";
import { deflate } from "node:zlib";
import { Backoff, type Logger } from "../common/index.js";
import type { Backlog } from "../protocol/index.js";
import type { DiskBuffer } from "./buffer.js";
import type { ChunkRef } from "./chunk-ref.js";
import type { ForwardConfig } from "./config.js";
import { SinkTimeoutError } from "./errors.js";
import type { LossEvent } from "./loss.js";
import type { OutboundChunk, Sink } from "./sink.js";

const deflateAsync = promisify(deflate);

/**
 * Moves sealed chunks from the buffer to a sink: highest-priority stream first, each
 * stream in chunk order, up to `window` chunks in flight. A chunk is deleted only after
 * the sink acknowledged it by id (and the checkpoint saying so is durable). Any failure
 * — refused connection, dropped link, ack timeout — puts the chunk back in the queue and
 * pauses sending for a full-jitter exponential backoff; retries never stop, so an
 * outage of any length loses nothing. Loss events go to the sink the same way, and so
 * does each schema text, once, before the first chunk that carries its fingerprint.
 */
export class Forwarder {
  private running = false;
  private readonly inFlight = new Set<ChunkRef>();
  private readonly tasks = new Set<Promise<void>>();
  private readonly controllers = new Set<AbortController>();
  private readonly backoff: Backoff;
  private pausedUntil = 0;
  private resumeTimer: NodeJS.Timeout | undefined;
  private sendingLosses = false;
  /** Per stream, settles once the stream's latest chunk was handed to the sink. */
  private readonly dispatched = new Map<string, Promise<void>>();
  private unsubscribe: (() => void) | undefined;
  /** Fingerprints whose schema the sink took (or refused for good) since this forwarder started. */
  private readonly announced = new Set<string>();
  private readonly announcing = new Map<string, Promise<void>>();

  constructor(
    private readonly buffer: DiskBuffer,
    private readonly sink: Sink,
    private readonly config: ForwardConfig,
    private readonly logger?: Logger,
  ) {
    this.backoff = new Backoff({
      initialMs: config.backoffBaseMs,
      maxMs: config.backoffCapMs,
      jitter: "full",
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.buffer.onActivity(() => this.pump());
    this.pump();
  }

  /** Stops sending: in-flight sends are abandoned (their chunks stay queued). */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    clearTimeout(this.resumeTimer);
    for (const c of this.controllers) c.abort(new Error("forwarder stopped"));
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }

  private pump(): void {
    if (!this.running || Date.now() < this.pausedUntil) return;
    if (!this.sendingLosses) {
      const losses = this.buffer.takeLosses();
      if (losses.length > 0) this.run(this.sendLosses(losses));
    }
    while (this.inFlight.size < this.config.window) {
      const ref = this.buffer.nextToSend();
      if (!ref) break;
      this.inFlight.add(ref);
      this.run(this.sendChunk(ref));
    }
  }

  private run(task: Promise<void>): void {
    this.tasks.add(task);
    task.finally(() => {
      this.tasks.delete(task);
      this.pump();
    });
  }

  private async sendChunk(ref: ChunkRef): Promise<void> {
    // Loads run in parallel, but a stream's chunks reach the sink in the order picked.
    const previous = this.dispatched.get(ref.stream) ?? Promise.resolve();
    let handedOver: () => void = () => undefined;
    const mine = new Promise<void>((resolve) => {
      handedOver = resolve;
    });
    this.dispatched.set(ref.stream, mine);
    try {
      const loaded = await this.buffer.load(ref);
      if (!loaded) {
        this.inFlight.delete(ref);
        return;
      }
      await this.announce(loaded.schema);
      const body =
        this.config.compression === "deflate" ? await deflateAsync(loaded.frames) : loaded.frames;
      const chunk: OutboundChunk = {
        chunkId: ref.id,
        stream: ref.stream,
        schema: loaded.schema,
        createdAt: ref.createdAt,
        firstSeq: ref.firstSeq,
        lastSeq: ref.lastSeq,
        records: ref.records,
        compression: this.config.compression,
        body,
      };
      await previous;
      const ack = await this.withTimeout((signal) => {
        const sending = this.sink.send(chunk, signal, this.waiting());
        handedOver();
        return sending;
      });
      if (ack.chunkId !== ref.id) {
        throw new Error(`sink acknowledged chunk ${ack.chunkId} for chunk ${ref.id}`);
      }
      this.backoff.reset();
      this.inFlight.delete(ref);
      await this.buffer.acknowledge(ref);
    } catch (err) {
      this.inFlight.delete(ref);
      this.buffer.requeue(ref);
      this.failed(err, { stream: ref.stream, chunkId: ref.id });
    } finally {
      handedOver();
      if (this.dispatched.get(ref.stream) === mine) this.dispatched.delete(ref.stream);
    }
  }

  /**
   * Sends the schema text of `fingerprint` once before its first chunk, when the sink
   * takes schemas and a producer defined the text (without one, the chunk goes alone).
   * Chunks in flight together share one send; a failure fails them all (retried).
   */
  private async announce(fingerprint: Buffer): Promise<void> {
    const key = fingerprint.toString("hex");
    if (!this.sink.sendSchema || this.announced.has(key)) return;
    const schema = this.buffer.schemaText(fingerprint);
    if (schema === undefined) return;
    let sending = this.announcing.get(key);
    if (!sending) {
      const sink = this.sink as Required<Sink>;
      sending = this.withTimeout((signal) => sink.sendSchema({ fingerprint, schema }, signal))
        .then(({ refused }) => {
          if (refused !== undefined)
            this.logger?.warn({ fingerprint: key, reason: refused }, "forward.schema_refused");
          this.announced.add(key);
        })
        .finally(() => this.announcing.delete(key));
      this.announcing.set(key, sending);
    }
    await sending;
  }

  private async sendLosses(losses: LossEvent[]): Promise<void> {
    this.sendingLosses = true;
    let i = 0;
    try {
      for (; i < losses.length; i++) {
        const loss = losses[i] as LossEvent;
        const ack = await this.withTimeout((signal) =>
          this.sink.sendLoss(loss, signal, this.waiting()),
        );
        if (ack.lossId !== loss.id)
          throw new Error(`sink acknowledged loss ${ack.lossId} for ${loss.id}`);
        await this.buffer.acknowledgeLoss(loss.id);
      }
    } catch (err) {
      for (const loss of losses.slice(i)) this.buffer.releaseLoss(loss.id);
      this.failed(err, { lossId: losses[i]?.id });
    } finally {
      this.sendingLosses = false;
    }
  }

  /**
   * What the buffer holds besides the chunks in flight (told to the sink with each send,
   * see Sink): a receiver that adds what it is relaying has the whole backlog, and once
   * everything is delivered the last send said 0.
   */
  private waiting(): Backlog {
    const m = this.buffer.metrics();
    let records = m.backlogRecords;
    let bytes = m.backlogBytes;
    for (const ref of this.inFlight) {
      records -= ref.records;
      bytes -= ref.bytes;
    }
    return {
      records: Math.max(0, records),
      bytes: Math.max(0, bytes),
      oldestAgeMs: Math.round(m.oldestUndeliveredAgeMs),
    };
  }

  private async withTimeout<T>(send: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.controllers.add(controller);
    const timer = setTimeout(
      () => controller.abort(new SinkTimeoutError(this.config.ackTimeoutMs)),
      this.config.ackTimeoutMs,
    );
    try {
      return await new Promise<T>((resolve, reject) => {
        controller.signal.addEventListener("abort", () => reject(controller.signal.reason), {
          once: true,
        });
        send(controller.signal).then(resolve, reject);
      });
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
    }
  }

  /** One failure pauses all sending; failures during the pause do not lengthen it. */
  private failed(err: unknown, where: Record<string, unknown>): void {
    if (!this.running) return;
    const e = err as NodeJS.ErrnoException;
    if (Date.now() < this.pausedUntil) return;
    const delay = this.backoff.next();
    this.pausedUntil = Date.now() + delay;
    this.logger?.warn(
      { ...where, code: e.code, err: e.message, retryInMs: delay, failures: this.backoff.failures },
      "forward.retry",
    );
    clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(() => {
      this.pausedUntil = 0;
      this.pump();
    }, delay);
  }
}
