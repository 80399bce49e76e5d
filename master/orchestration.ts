import type { Logger } from "../common/index.js";
import type { InstanceRequestSpec, RequestedInstance } from "../protocol/index.js";
import { placeInstance } from "./allocation.js";
import { instanceState } from "./instance-state.js";
import type { InstanceRecord, MasterStore } from "./store.js";

/** The protocol's limit on an instance name; nested requests can reach it. */
const MAX_NAME = 128;

/** The name of the instance `parent` requests as `request`. */
export function childName(parent: string, request: string): string {
  return `${parent}.${request}`;
}

function sameParameters(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** Every key the parent marks secret is marked on the child already. */
function secretsMarked(child: InstanceRecord, spec: InstanceRequestSpec): boolean {
  return (spec.secrets ?? []).every((k) => child.secrets.requested.includes(k));
}

/**
 * SlapOS-style orchestration: instances request instances. The node renders a parent's
 * `requests:` and reports them; the master creates each child on the parent's node
 * (supplying its software there: children follow their parent), updates one whose
 * parameters changed and destroys children the parent no longer lists. A parameter
 * that carries one of the parent's secrets is marked secret on the child. A child that
 * cannot be created is remembered with its reason, which the parent's node is told.
 */
export class Orchestrator {
  private readonly failures = new Map<string, string>();

  constructor(
    private readonly store: MasterStore,
    private readonly logger: Logger,
  ) {}

  /** Applies the full list of `parent`'s requests, as its node reported them. */
  async apply(
    node: string,
    parent: string,
    specs: readonly InstanceRequestSpec[],
    at: number,
  ): Promise<void> {
    const owner = await this.store.getInstance(parent);
    if (!owner || owner.node !== node || owner.requestedState === "destroyed") return;
    const children = new Map(
      (await this.store.listInstances({ parent })).map((c) => [c.name, c] as const),
    );
    for (const spec of specs) {
      const name = childName(parent, spec.name);
      const existing = children.get(name);
      children.delete(name);
      if (name.length > MAX_NAME) {
        this.failures.set(name, `instance name '${name}' is longer than ${MAX_NAME} characters`);
        continue;
      }
      if (
        existing &&
        existing.software === spec.software &&
        existing.requestedState === "started" &&
        sameParameters(existing.parameters, spec.parameters) &&
        secretsMarked(existing, spec)
      )
        continue;
      try {
        await this.store.supply(node, spec.software, at);
        await this.store.requestInstance(
          {
            name,
            software: spec.software,
            parameters: spec.parameters,
            ...(spec.secrets ? { secrets: spec.secrets } : {}),
            node,
            cores: 0,
            parent,
          },
          placeInstance,
          at,
        );
        this.failures.delete(name);
        this.logger.info({ parent, instance: name, software: spec.software }, "instance.requested");
      } catch (err) {
        const message = (err as Error).message;
        if (this.failures.get(name) !== message)
          this.logger.warn({ parent, instance: name, err: message }, "instance.request_failed");
        this.failures.set(name, message);
      }
    }
    const listed = new Set(specs.map((s) => childName(parent, s.name)));
    for (const name of this.failures.keys())
      if (name.startsWith(`${parent}.`) && !listed.has(name)) this.failures.delete(name);
    for (const orphan of children.values()) {
      if (orphan.requestedState === "destroyed") continue;
      await this.store.setRequestedState(orphan.name, "destroyed", at);
      this.logger.info({ parent, instance: orphan.name }, "instance.unrequested");
    }
  }

  /** What `parent`'s node needs to know of the instances it requested, by request name. */
  requested(
    parent: string,
    children: readonly InstanceRecord[],
  ): Record<string, RequestedInstance> | undefined {
    const out: Record<string, RequestedInstance> = {};
    const prefix = `${parent}.`;
    for (const child of children) {
      if (child.requestedState === "destroyed") continue;
      out[child.name.slice(prefix.length)] = {
        instance: child.name,
        ready: instanceState(child) === "ready",
        // A child is always placed on its parent's node, never kept waiting.
        status: child.status === "waiting" ? "pending" : child.status,
        connection: child.connection,
      };
    }
    for (const [name, message] of this.failures) {
      const request = name.slice(prefix.length);
      if (!name.startsWith(prefix) || out[request]) continue;
      out[request] = { instance: name, ready: false, status: "failed", message, connection: {} };
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
}
