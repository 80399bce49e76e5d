import type {
  BufferBacklog,
  DesiredInstance,
  InstanceLimits,
  InstanceReport,
  InstanceRequestSpec,
  InstanceSecrets,
  PromiseResult,
} from "../../protocol/index.js";

/** What the report needs to know of one instance on this node. */
export interface InstanceFacts {
  /** Destroyed, or being destroyed here. */
  destroying: boolean;
  /** Why the last attempt failed (install, parameters, render, start). */
  error: string | undefined;
  softwareInstalled: boolean;
  /** The keys its release marks secret; absent while no release of it is installed here. */
  secrets?: InstanceSecrets;
  /** Its rendered `requests:` and, while one is not ready, what it waits for. */
  requests?: { specs: InstanceRequestSpec[]; waiting?: string };
  /** The limits that hold for it here (its partition's), once it has one. */
  limits?: InstanceLimits;
  /** Why it is stopped: its partition's files are over the disk limit (measured mode). */
  diskExceeded?: string;
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

/** The pseudo-promise that fails while an instance is stopped for its partition's disk use. */
export const DISK_PROMISE = "disk";

/**
 * Pure: one instance's report. A failure is status `failed` with the error in a failed
 * `deploy` promise (its message is what `outpost show` prints); connection parameters
 * are published only once the instance is ready; the release's secret keys go with
 * every report once known, so the master can mask them.
 */
export function instanceReport(
  d: DesiredInstance,
  facts: InstanceFacts,
  now: number,
): InstanceReport {
  const secrets = facts.secrets ? { secrets: facts.secrets } : {};
  const base = { name: d.name, promises: [] as PromiseResult[], connection: {}, ...secrets };
  if (d.state === "destroyed" || facts.destroying) return { ...base, status: "destroyed" };
  const extra = {
    ...(facts.requests ? { requests: facts.requests.specs } : {}),
    ...(facts.limits ? { limits: facts.limits } : {}),
  };
  const disk =
    facts.diskExceeded !== undefined && d.state === "started"
      ? [{ name: DISK_PROMISE, ok: false, message: facts.diskExceeded, checkedAt: now }]
      : [];
  if (facts.error !== undefined) {
    const failed = { name: DEPLOY_PROMISE, ok: false, message: facts.error, checkedAt: now };
    return { ...base, ...extra, status: "failed", promises: [failed, ...disk] };
  }
  if (d.state === "stopped") return { ...base, ...extra, status: "stopped" };
  if (disk.length > 0) return { ...base, ...extra, status: "failed", promises: disk };
  const waiting = facts.requests?.waiting;
  const waitingPromise =
    waiting !== undefined
      ? [{ name: REQUESTS_PROMISE, ok: false, message: waiting, checkedAt: now }]
      : [];
  if (!facts.running) {
    const status = facts.softwareInstalled ? "starting" : "installing";
    return { ...base, ...extra, status, promises: waitingPromise };
  }
  return {
    name: d.name,
    status: facts.running.status,
    promises: [...facts.running.promises, ...waitingPromise],
    connection: facts.running.ready && waiting === undefined ? facts.running.publish : {},
    ...extra,
    ...(facts.running.backlog ? { buffer: facts.running.backlog } : {}),
    ...secrets,
  };
}
