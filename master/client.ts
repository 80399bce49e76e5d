import { errorFromApi, MasterResponseError, MasterUnreachableError } from "./errors.js";
import type { InstanceView } from "./instance-state.js";
import type { NodePresence } from "./status/status-snapshot.js";
import type { NodeRecord, StoredLoss, StoredUsage } from "./store.js";
import type { SequenceGap } from "./telemetry-gaps.js";

export interface ChunkInfo {
  node: string;
  chunkId: number;
  stream: string;
  schema: string;
  createdAt: number;
  firstSeq: number;
  lastSeq: number;
  records: number;
  compression: string;
  receivedAt: number;
  /** base64, only when asked for */
  body?: string;
}

export interface TelemetryAnswer {
  chunks: ChunkInfo[];
  losses: StoredLoss[];
  gaps: SequenceGap[];
}

/**
 * The HTTP API as the CLI uses it. Errors come back as the master's own error classes
 * (same `code`); a master that cannot be reached is E_MASTER_UNREACHABLE.
 */
export class MasterClient {
  private readonly base: string;

  constructor(
    url: string,
    private readonly token: string,
    private readonly timeoutMs = 30_000,
  ) {
    this.base = url.replace(/\/+$/, "");
  }

  async addNode(name: string, publicKey: string): Promise<NodeRecord> {
    return (await this.call<{ node: NodeRecord }>("POST", "/v1/nodes", { name, publicKey })).node;
  }

  async listNodes(): Promise<NodePresence[]> {
    return (await this.call<{ nodes: NodePresence[] }>("GET", "/v1/nodes")).nodes;
  }

  async supply(node: string, software: string): Promise<string[]> {
    const path = `/v1/nodes/${encodeURIComponent(node)}/software`;
    return (await this.call<{ software: string[] }>("POST", path, { software })).software;
  }

  async request(input: {
    name: string;
    software: string;
    node?: string;
    parameters: Record<string, string>;
    /** Parameter keys the master must never show, whatever the release says. */
    secrets?: string[];
    /** Keep it `waiting` when no node can take it now (the master's default). */
    wait?: boolean;
  }): Promise<InstanceView> {
    return (await this.call<{ instance: InstanceView }>("POST", "/v1/instances", input)).instance;
  }

  async show(name: string): Promise<{ instance: InstanceView; usage: StoredUsage[] }> {
    return this.call("GET", `/v1/instances/${encodeURIComponent(name)}`);
  }

  async destroy(name: string): Promise<InstanceView> {
    const path = `/v1/instances/${encodeURIComponent(name)}`;
    return (await this.call<{ instance: InstanceView }>("DELETE", path)).instance;
  }

  async telemetry(query: {
    node?: string;
    stream?: string;
    since?: number;
    limit?: number;
  }): Promise<TelemetryAnswer> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.size > 0 ? `?${params}` : "";
    return this.call("GET", `/v1/telemetry${qs}`);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.base}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new MasterUnreachableError(
        this.base,
        cause?.code ?? cause?.message ?? (err as Error).message,
      );
    }
    let json: unknown;
    try {
      json = await res.json();
    } catch {
      throw new MasterResponseError(url, `HTTP ${res.status}, not JSON`);
    }
    if (!res.ok) {
      const error = (json as { error?: { code?: unknown; message?: unknown } }).error;
      if (typeof error?.code !== "string") throw new MasterResponseError(url, `HTTP ${res.status}`);
      throw errorFromApi(error.code, String(error.message), url);
    }
    return json as T;
  }
}
