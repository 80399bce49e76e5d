import { uptime } from "node:os";
import { hasCode } from "../common/errors.js";
import type { Logger } from "../common/index.js";
import { commitSlot, rejectSlot, type Slot, settleAfterBoot } from "./slot-state.js";
import type { SlotStore } from "./slot-store.js";

export interface BootHealthOptions {
  store: SlotStore;
  /** How long after boot the health check may take to pass before the slot is rejected. */
  windowMs: number;
  /** Undefined when healthy, else why not (logged when the slot is rejected). */
  unhealthy: () => string | undefined;
  /** Called once the trial slot was rejected: boot the fallback. */
  reboot: () => void;
  logger: Logger;
  intervalMs?: number;
  /** Seconds since boot; the window counts from boot, so agent restarts do not extend it. */
  uptimeSeconds?: () => number;
}

export type BootHealthOutcome = "not-ab" | "committed-already" | "committed" | "rejected";

/**
 * Decides a trial boot. A bootloader fallback is settled first (the failed slot marked
 * bad, the running one first again). When the running slot is on trial, it is
 * committed as soon as `unhealthy()` says nothing, or rejected (and `reboot` called)
 * once the window since boot has passed without that. An agent restarting after the
 * window rejects at once, so an agent that keeps crashing on a trial slot still ends
 * in the fallback. Resolves with what was decided; `stop()` ends the watch undecided.
 */
export function watchBootHealth(options: BootHealthOptions): {
  outcome: Promise<BootHealthOutcome>;
  stop(): void;
} {
  const { store, logger } = options;
  const upSeconds = options.uptimeSeconds ?? uptime;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const outcome = new Promise<BootHealthOutcome>((resolve) => {
    let booted: Slot;
    try {
      booted = store.booted();
    } catch (err) {
      if (!hasCode(err, "E_OTA_REFUSED")) throw err;
      logger.warn({ reason: err.message }, "ota.not_ab_boot");
      resolve("not-ab");
      return;
    }
    const settled = settleAfterBoot(store.read(), booted);
    if (settled.fellBackFrom) {
      store.write(settled.state);
      logger.warn({ slot: booted, failed: settled.fellBackFrom }, "ota.fell_back");
    }
    if (settled.state.slots[booted].health !== "trial") {
      resolve("committed-already");
      return;
    }
    logger.info({ slot: booted, windowMs: options.windowMs }, "ota.trial_boot");
    let reason = "not checked yet";
    const check = () => {
      if (stopped) return;
      const why = options.unhealthy();
      if (why === undefined) {
        store.write(commitSlot(store.read(), booted));
        logger.info({ slot: booted, afterSeconds: Math.round(upSeconds()) }, "ota.committed");
        resolve("committed");
        return;
      }
      reason = why;
      if (upSeconds() * 1000 >= options.windowMs) {
        store.write(rejectSlot(store.read(), booted));
        logger.error({ slot: booted, reason }, "ota.rejected");
        resolve("rejected");
        options.reboot();
        return;
      }
      timer = setTimeout(check, options.intervalMs ?? 2000);
    };
    check();
  });
  return {
    outcome,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
