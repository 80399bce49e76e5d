import type { LossEvent } from "./loss.js";

/**
 * Loss events not yet acknowledged by the sink. They live in the checkpoint until then;
 * the forwarder takes them, and gives back those it could not deliver. Consecutive
 * overflow drops of one stream merge into one event while it is not being sent, so a
 * long overflow is one event with the whole sequence range, not thousands.
 */
export class LossLedger {
  private readonly sending = new Set<number>();

  constructor(
    private events: LossEvent[],
    private nextId: number,
    private readonly onAdded: () => void,
  ) {}

  get pending(): number {
    return this.events.length;
  }

  add(loss: Omit<LossEvent, "id" | "at">): void {
    const last = this.events.findLast((l) => l.stream === loss.stream);
    if (
      last &&
      last.reason === "overflow" &&
      loss.reason === "overflow" &&
      last.toSeq + 1 === loss.fromSeq &&
      !this.sending.has(last.id)
    ) {
      last.toSeq = loss.toSeq;
      last.records += loss.records;
      last.chunkId = loss.chunkId;
      return;
    }
    this.events.push({ ...loss, id: this.nextId++, at: Date.now() });
    this.onAdded();
  }

  /** Events not yet acknowledged and not being sent, oldest first; marks them sending. */
  take(): LossEvent[] {
    const out = this.events.filter((l) => !this.sending.has(l.id));
    for (const l of out) this.sending.add(l.id);
    return out.map((l) => ({ ...l }));
  }

  /** A send failed; the event goes back to the queue. */
  release(id: number): void {
    this.sending.delete(id);
  }

  /** The sink has the event; the caller makes that durable with a checkpoint. */
  acknowledge(id: number): void {
    this.sending.delete(id);
    this.events = this.events.filter((l) => l.id !== id);
  }

  snapshot(): { losses: LossEvent[]; nextLossId: number } {
    return { losses: this.events.map((l) => ({ ...l })), nextLossId: this.nextId };
  }
}
