import type { InstanceRecord } from "./store.js";

/** What the API shows in place of a secret value: fixed, so nothing of the value leaks. */
export const SECRET_MASK = "********";

function masked(
  values: Record<string, string>,
  secret: (key: string) => boolean,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k, secret(k) ? SECRET_MASK : v]),
  );
}

/**
 * Pure: the instance as the API may show it. A parameter is masked when the requester
 * marked it secret or the node reported that its release does (`x-outpost-secret`); a
 * connection value when its `publish:` template uses a secret. Until the node has
 * reported its release's secret keys, every parameter and connection value is masked:
 * the master never knows the descriptor, so a value is shown only once known not to be
 * secret. The store keeps the real values (the node needs them).
 */
export function maskSecrets(i: InstanceRecord): InstanceRecord {
  const { requested, reported } = i.secrets;
  const parameters = new Set([...requested, ...(reported?.parameters ?? [])]);
  const connection = new Set(reported?.connection ?? []);
  return {
    ...i,
    parameters: masked(i.parameters, (k) => reported === null || parameters.has(k)),
    connection: masked(i.connection, (k) => reported === null || connection.has(k)),
  };
}
