/**
 * zeromq.js allows one pending send per socket (a second one while the first waits
 * fails with EBUSY); this queues sends in order so callers can send concurrently.
 * While the link is down the head send waits for it; a send whose caller has given up
 * by its turn (`wanted` says no) is skipped, so an outage does not pile up stale frames
 * that would all go out, and stay in memory, until the link is back.
 */
export class SendQueue {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly sendNow: (frames: Uint8Array[]) => Promise<void>) {}

  /** Resolves once sent, or at once when `wanted` says no at its turn. */
  send(frames: Uint8Array[], wanted: () => boolean = () => true): Promise<void> {
    const turn = async (): Promise<void> => {
      if (wanted()) await this.sendNow(frames);
    };
    const next = this.tail.then(turn, turn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
