import type { ClientSubscription } from "node-opcua";

interface Watched {
  timer: NodeJS.Timeout;
  heard: () => void;
}

/**
 * Tells a hung server from a quiet one. A subscription is answered once per publishing
 * interval with data, or at the latest every keep-alive period with an empty publish
 * response (a keep-alive, asked for at a third of the bound, see hang-bound.ts); one
 * that hears neither for its bound has a server that stopped answering with its
 * connection still open (a frozen process, a stalled link), which no socket event
 * reports. `onHang` gets when the server was last heard.
 */
export class HangWatch {
  private readonly watched = new Map<ClientSubscription, Watched>();
  /** Some publish response came since the watch began. */
  heard = false;

  constructor(private readonly onHang: (lastHeard: number) => void) {}

  /** Starts the clock of `subscription`; every publish response it receives restarts it. */
  watch(subscription: ClientSubscription, boundMs: number): void {
    if (this.watched.has(subscription)) return;
    let lastHeard = Date.now();
    const timer = setTimeout(() => this.onHang(lastHeard), boundMs);
    timer.unref();
    const heard = () => {
      this.heard = true;
      lastHeard = Date.now();
      timer.refresh();
    };
    subscription.on("raw_notification", heard);
    this.watched.set(subscription, { timer, heard });
  }

  /** Stops every clock and lets go of the subscriptions (which may be watched again). */
  stop(): void {
    for (const [subscription, { timer, heard }] of this.watched) {
      clearTimeout(timer);
      subscription.off("raw_notification", heard);
    }
    this.watched.clear();
  }
}
