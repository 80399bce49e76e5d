import type { RequestedState } from "../../protocol/index.js";

/** One desired instance as the planner sees it: `key` changes whenever it must restart. */
export interface DesiredView {
  name: string;
  state: RequestedState;
  /** Install id, partition and parameters; undefined while its software is not installed. */
  key: string | undefined;
}

/** What runs now: the key it was started with. */
export interface ActualView {
  name: string;
  key: string;
}

export type InstanceAction =
  | { kind: "start"; name: string; replace: boolean }
  | { kind: "keep"; name: string }
  | { kind: "wait"; name: string }
  | { kind: "stop"; name: string }
  | { kind: "destroy"; name: string };

/**
 * Pure: the action for each instance, desired ones first in the master's order, then
 * instances running here that the master no longer lists (destroyed). Unchanged
 * instances are `keep`: a pass over a converged node does nothing.
 */
export function planInstances(
  desired: readonly DesiredView[],
  actual: readonly ActualView[],
): InstanceAction[] {
  const running = new Map(actual.map((a) => [a.name, a.key]));
  const actions: InstanceAction[] = [];
  for (const d of desired) {
    const current = running.get(d.name);
    running.delete(d.name);
    if (d.state === "destroyed") actions.push({ kind: "destroy", name: d.name });
    else if (d.state === "stopped")
      actions.push(
        current !== undefined ? { kind: "stop", name: d.name } : { kind: "keep", name: d.name },
      );
    else if (d.key === undefined) actions.push({ kind: "wait", name: d.name });
    else if (current === d.key) actions.push({ kind: "keep", name: d.name });
    else actions.push({ kind: "start", name: d.name, replace: current !== undefined });
  }
  for (const name of running.keys()) actions.push({ kind: "destroy", name });
  return actions;
}

function sortedJson(record: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(
    Object.keys(record)
      .sort()
      .map((k) => [k, record[k]]),
  );
}

/**
 * The key of a desired instance: a change in software, partition, parameters or the
 * connection parameters of the instances it requested restarts it.
 */
export function instanceKey(
  softwareId: string,
  partition: number,
  parameters: Readonly<Record<string, string>>,
  requested: Readonly<Record<string, Readonly<Record<string, string>>>> = {},
): string {
  const base = `${softwareId}|${partition}|${sortedJson(parameters)}`;
  if (Object.keys(requested).length === 0) return base;
  const connections = Object.fromEntries(
    Object.entries(requested).map(([name, c]) => [name, sortedJson(c)]),
  );
  return `${base}|${sortedJson(connections)}`;
}
