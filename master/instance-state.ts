import { maskSecrets } from "./secrets.js";
import type { InstanceRecord } from "./store.js";

/** What an operator asks first: `ready` (running, every promise passing) or the status. */
export type InstanceState = InstanceRecord["status"] | "ready";

export function instanceState(i: Pick<InstanceRecord, "status" | "promises">): InstanceState {
  return i.status === "running" && i.promises.every((p) => p.ok) ? "ready" : i.status;
}

/**
 * An instance as the HTTP API and the status page show it: the record with its secret
 * values masked (master/secrets.ts), and its state. Every answer about an instance goes
 * through here.
 */
export type InstanceView = InstanceRecord & { state: InstanceState };

export function withState(i: InstanceRecord): InstanceView {
  return { ...maskSecrets(i), state: instanceState(i) };
}
