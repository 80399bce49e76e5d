import { spawn } from "node:child_process";
import type { Logger } from "../common/index.js";
import { type OtaConfig, SlotStore, watchBootHealth } from "../ota/index.js";
import type { Converger } from "./converge/converger.js";
import type { SyncLoop } from "./converge/sync-loop.js";

/**
 * Why this agent is not healthy yet, for a trial boot: it must have reached the master,
 * and every instance it runs must be running with no failing promise.
 */
export function unhealthyReason(loop: SyncLoop, converger: Converger): string | undefined {
  if (!loop.online) return "the master has not been reached";
  for (const i of converger.report().instances) {
    if (i.status === "stopped" || i.status === "destroyed") continue;
    if (i.status !== "running") return `instance ${i.name} is ${i.status}`;
    const failing = i.promises.find((p) => !p.ok);
    if (failing)
      return `instance ${i.name}: promise ${failing.name} fails (${failing.message ?? ""})`;
  }
  return undefined;
}

/** `systemctl reboot`: systemd stops the units in order, so the env write is long on disk. */
function rebootSystem(logger: Logger): void {
  const child = spawn("systemctl", ["reboot"], { stdio: "ignore" });
  child.on("error", (err) => logger.error({ err }, "ota.reboot_failed"));
}

/**
 * Watches a trial boot for the agent (see ota/boot-health.ts): commits the slot once
 * the agent is healthy, rejects it and reboots into the fallback otherwise.
 */
export function watchTrialBoot(
  config: OtaConfig,
  loop: SyncLoop,
  converger: Converger,
  logger: Logger,
  reboot: (() => void) | undefined,
): { stop(): void } {
  const log = logger.child({ component: "ota" });
  const watch = watchBootHealth({
    store: new SlotStore(config),
    windowMs: config.healthWindowSeconds * 1000,
    unhealthy: () => unhealthyReason(loop, converger),
    reboot: reboot ?? (() => rebootSystem(log)),
    logger: log,
  });
  watch.outcome.catch((err) => log.error({ err }, "ota.health_failed"));
  return watch;
}
