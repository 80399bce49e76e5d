import type { DesiredInstance, InstanceRequestSpec } from "../../protocol/index.js";

export type Readiness =
  | { ready: true; connections: Record<string, Record<string, string>> }
  | { ready: false; waiting: string };

/**
 * Pure: whether every instance a parent requests is ready, with their connection
 * parameters (the parent's `requests.NAME.*`), or what it still waits for. A parent
 * starts only once all of them are ready, like a SlapOS instance that waits for its
 * requested instances' connection parameters.
 */
export function requestsReadiness(
  specs: readonly InstanceRequestSpec[],
  requested: DesiredInstance["requested"],
): Readiness {
  const connections: Record<string, Record<string, string>> = {};
  const waiting: string[] = [];
  for (const spec of specs) {
    const r = requested?.[spec.name];
    if (!r) waiting.push(`'${spec.name}' (not created yet)`);
    else if (r.message !== undefined) waiting.push(`'${r.instance}' (${r.message})`);
    else if (!r.ready) waiting.push(`'${r.instance}' (${r.status})`);
    else connections[spec.name] = r.connection;
  }
  if (waiting.length > 0)
    return { ready: false, waiting: `waiting for requested instances: ${waiting.join(", ")}` };
  return { ready: true, connections };
}
