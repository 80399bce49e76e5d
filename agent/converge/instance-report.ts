import type {
  BufferBacklog,
  DesiredInstance,
  InstanceReport,
  InstanceRequestSpec,
  PromiseResult,
} from "../../protocol/index.js";

/** What the report needs to know of one instance on this node. */
export interface InstanceFacts {
  /** Destroyed, or being destroyed here. */
  destroying: boolean;
  /** Why the last attempt failed (install, parameters, render, start). */
  error: string | undefined;
  softwareInstalled: boolean;
  /** Its rendered `requests:` and, while one is not ready, what it waits for. */
  requests?: { specs: InstanceRequestSpec[]; waiting?: string };
  /** The running instance's view, if it runs. */
  running?: {
    status: InstanceReport["status"];
    ready: boolean;
    promises: PromiseResult[];
    publish: Record<string, string>;
    backlog?: BufferBacklog;
  };
}

/** The pseudo-promise carrying an instance's deployment error, as the protocol has no error field. */
export const DEPLOY_PROMISE = "deploy";

/** The pseudo-promise that fails while an instance waits for the instances it requested. */
export const REQUESTS_PROMISE = "requests";

/**
 * Pure: one instance's report. A failure is status `failed` with the error in a failed
 * `deploy` promise (its message is what `outpost show` prints); connection parameters
 * are published only once the instance is ready.
 */
export function instanceReport(
  d: DesiredInstance,
  facts: InstanceFacts,
  now: number,
): InstanceReport {
  const base = { name: d.name, promises: [] as PromiseResult[], connection: {} };
  if (d.state === "destroyed" || facts.destroying) return { ...base, status: "destroyed" };
  const requests = facts.requests ? { requests: facts.requests.specs } : {};
  if (facts.error !== undefined) {
    const failed = { name: DEPLOY_PROMISE, ok: false, message: facts.error, checkedAt: now };
    return { ...base, ...requests, status: "failed", promises: [failed] };
  }
  if (d.state === "stopped") return { ...base, ...requests, status: "stopped" };
  const waiting = facts.requests?.waiting;
  const waitingPromise =
    waiting !== undefined
      ? [{ name: REQUESTS_PROMISE, ok: false, message: waiting, checkedAt: now }]
      : [];
  if (!facts.running) {
    const status = facts.softwareInstalled ? "starting" : "installing";
    return { ...base, ...requests, status, promises: waitingPromise };
  }
  return {
    name: d.name,
    status: facts.running.status,
    promises: [...facts.running.promises, ...waitingPromise],
    connection: facts.running.ready && waiting === undefined ? facts.running.publish : {},
    ...requests,
    ...(facts.running.backlog ? { buffer: facts.running.backlog } : {}),
  };
}
