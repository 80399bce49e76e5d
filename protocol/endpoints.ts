import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Logger } from "../common/index.js";
import { LinkConfigError } from "./errors.js";

/** More masters than any fleet runs; it bounds what one setting makes the node try. */
export const MAX_ENDPOINTS = 64;

/** One master endpoint as given: `tcp://HOST:PORT`, HOST an IP address or a DNS name. */
export interface MasterEndpoint {
  text: string;
  /** Without brackets for IPv6. */
  host: string;
  port: number;
}

/** The addresses a DNS name stands for (node:dns `lookup(host, { all: true })` by default). */
export type Resolve = (host: string) => Promise<string[]>;

const ENDPOINT = /^tcp:\/\/(?:\[([0-9a-fA-F:.]+)\]|([^\s:/,[\]]+)):(\d{1,5})$/;
const DNS_NAME =
  /^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * `tcp://a:5660,tcp://b:5660`: each entry checked, none empty or repeated. A bad one is
 * `LinkConfigError` naming it by position and text.
 */
export function parseEndpointList(text: string): MasterEndpoint[] {
  const entries = text.split(",").map((e) => e.trim());
  if (entries.length > MAX_ENDPOINTS)
    throw new LinkConfigError(`${entries.length} endpoints, at most ${MAX_ENDPOINTS}`);
  return parseEndpoints(entries);
}

/** `parseEndpointList` for entries given one by one. */
export function parseEndpoints(entries: readonly string[]): MasterEndpoint[] {
  if (entries.length === 0) throw new LinkConfigError("no master endpoint given");
  const seen = new Map<string, number>();
  return entries.map((entry, i) => {
    const where = entries.length > 1 ? `entry ${i + 1} ` : "";
    if (entry === "") throw new LinkConfigError(`${where}is empty (a comma too many?)`);
    const m = ENDPOINT.exec(entry);
    const host = m?.[1] ?? m?.[2] ?? "";
    const port = Number(m?.[3]);
    if (!m || (m[1] !== undefined ? isIP(host) !== 6 : !isIP(host) && !DNS_NAME.test(host)))
      throw new LinkConfigError(
        `${where}'${entry}' is not tcp://HOST:PORT (HOST an IP address, [IPv6] or a DNS name)`,
      );
    if (port < 1 || port > 65535)
      throw new LinkConfigError(`${where}'${entry}': port ${port} is not 1..65535`);
    const first = seen.get(entry);
    if (first !== undefined)
      throw new LinkConfigError(`${where}'${entry}' repeats entry ${first + 1}`);
    seen.set(entry, i);
    return { text: entry, host, port };
  });
}

/** Whether the endpoints are one fixed address: no list to go round, no name to resolve. */
export function isFixed(endpoints: readonly MasterEndpoint[]): boolean {
  return endpoints.length === 1 && isIP(endpoints[0]?.host ?? "") !== 0;
}

export const resolveByLookup: Resolve = async (host) =>
  (await lookup(host, { all: true })).map((a) => a.address);

function endpointOf(address: string, port: number): string {
  return isIP(address) === 6 ? `tcp://[${address}]:${port}` : `tcp://${address}:${port}`;
}

/**
 * The masters a node goes round: the given endpoints in order, each DNS name replaced by
 * its addresses (sorted, so a resolver that rotates its answers does not reorder the
 * ring). Names are resolved again on every move, so a master that changed address is
 * found. A name that does not resolve stays as it is (ZeroMQ tries it, and fails over
 * when that fails too), and is logged.
 */
export class EndpointRing {
  private index = -1;

  constructor(
    private readonly given: readonly MasterEndpoint[],
    /** In [0, 1): where the first round starts. */
    private readonly start: number,
    private readonly resolve: Resolve,
    private readonly logger: Logger,
  ) {}

  /** The endpoint after `current` (the first one when undefined), names resolved again. */
  async next(current?: string): Promise<string> {
    const list = await this.expand();
    const at = current === undefined ? -1 : list.indexOf(current);
    if (this.index < 0) this.index = Math.floor(this.start * list.length);
    else this.index = (at >= 0 ? at : this.index) + 1;
    this.index %= list.length;
    return list[this.index] as string;
  }

  private async expand(): Promise<string[]> {
    const all = await Promise.all(
      this.given.map(async (e) => {
        if (isIP(e.host)) return [e.text];
        try {
          const addresses = [...new Set(await this.resolve(e.host))].sort();
          if (addresses.length > 0) return addresses.map((a) => endpointOf(a, e.port));
          this.logger.warn({ host: e.host }, "link.resolve_empty");
        } catch (err) {
          this.logger.warn({ host: e.host, err: (err as Error).message }, "link.resolve_failed");
        }
        return [e.text];
      }),
    );
    return [...new Set(all.flat())];
  }
}
