import type { InstanceRequestSpec } from "../../protocol/index.js";
import type { PartitionLayout } from "../partitions/partition-layout.js";
import type { InstalledSoftware } from "../software/install.js";
import { outpostRuntime } from "../software/outpost-runtime.js";
import { validateParameters } from "../software/parse-descriptor.js";
import { requestSecretKeys } from "../software/secret-parameters.js";
import { resolveSource } from "../software/source.js";
import { renderTemplate, type TemplateVars } from "../template.js";

/** The variables every template of an instance sees (`requests.*` aside). */
export function instanceVars(
  instance: string,
  software: InstalledSoftware,
  partition: PartitionLayout,
  params: Record<string, unknown>,
): TemplateVars {
  return {
    software: software.dir,
    instance,
    partition: {
      path: partition.path,
      user: partition.user,
      address: partition.address,
      number: partition.number,
    },
    params: params as TemplateVars,
    outpost: outpostRuntime(),
  };
}

/**
 * Pure: the instances this one requests (`requests:`), rendered: parameters as strings
 * (the master's form; a string value is a template, other values are written as JSON),
 * software resolved against this descriptor's own URL so `../kv/software.yaml` names
 * the same release wherever the agent runs; `secrets` names the parameters that carry
 * one of this release's secrets. Empty when the descriptor requests nothing.
 */
export function renderRequests(
  instance: string,
  software: InstalledSoftware,
  partition: PartitionLayout,
  parameters: Record<string, string>,
): InstanceRequestSpec[] {
  const requests = software.descriptor.instance?.requests ?? [];
  if (requests.length === 0) return [];
  const params = validateParameters(software.descriptor, instance, parameters);
  const vars = instanceVars(instance, software, partition, params);
  return requests.map((r, i) => {
    const rendered: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.parameters ?? {})) {
      const where = `instance.requests[${i}].parameters.${k}`;
      rendered[k] = typeof v === "string" ? renderTemplate(v, vars, where) : JSON.stringify(v);
    }
    const secrets = requestSecretKeys(software.descriptor, i);
    return {
      name: r.name,
      software: resolveSource(software.url, r.software).href,
      parameters: rendered,
      ...(secrets.length > 0 ? { secrets } : {}),
    };
  });
}
