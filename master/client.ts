import { errorFromApi, MasterResponseError, MasterUnreachableError } from "./errors.js";
import type { InstanceView } from "./instance-state.js";
import type { DecodeFailure, ReadingCounts } from "./readings/health.js";
import type { Aggregate, SeriesKey } from "./readings/reading.js";
import type { ReadingGap } from "./readings/reading-gaps.js";
import type { JsonValue } from "./readings/reading-values.js";
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
  /** Per node: late and clock-suspect readings, chunks awaiting a schema or failed. */
  readingCounts: ReadingCounts[];
  /** Chunks kept raw because they did not decode, newest first, with the reason. */
  decodeFailures: DecodeFailure[];
}

/** `GET /v1/readings`'s parameters; times as the API takes them (text or ms). */
export interface ReadingsParamsInput {
  node?: string;
  device?: string;
  tags?: readonly string[];
  from?: string | number;
  to?: string | number;
  step?: string;
  agg?: Aggregate;
  /** `any`: every reading, not only good ones. */
  quality?: "good" | "any";
}

/** One series of a JSON readings answer. */
export interface ReadingsSeries {
  node: string;
  device: string;
  tag: string;
  /** Raw answers only: the stream of the series' first reading. */
  stream?: string;
  unit: string | null;
  /** `[ts, value, quality]`, or `[bucket start, value, count]` with `step`. */
  points: [number, JsonValue, string | number][];
}

export interface ReadingsAnswer {
  series: ReadingsSeries[];
  gaps: ReadingGap[];
  losses: StoredLoss[];
}

/** A streamed answer's media types, by the name the CLI gives them. */
const STREAM_MEDIA = { json: "application/json", csv: "text/csv", ndjson: "application/x-ndjson" };

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
    /** Isolated cores it needs for real time (default 0). */
    cores?: number;
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

  async readings(params: ReadingsParamsInput): Promise<ReadingsAnswer> {
    return this.call("GET", `/v1/readings?${readingsSearch(params)}`);
  }

  /**
   * A readings answer as the bytes the master streams (`json`, `csv` or `ndjson`): no
   * time limit once the answer has started, and nothing is held beyond what the caller
   * has not read yet. Errors before the answer starts are thrown as by every call.
   */
  async readingsStream(
    params: ReadingsParamsInput,
    format: keyof typeof STREAM_MEDIA,
  ): Promise<AsyncIterable<Uint8Array>> {
    const url = `${this.base}/v1/readings?${readingsSearch(params)}`;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    let res: Response;
    try {
      res = await this.fetch(url, "GET", undefined, abort.signal, STREAM_MEDIA[format]);
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok) await this.answer(url, res);
    return (res.body ?? []) as unknown as AsyncIterable<Uint8Array>;
  }

  /** Every series that has readings (node, device, tag), in that order. */
  async readingSeries(query: { node?: string; device?: string } = {}): Promise<SeriesKey[]> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
    const qs = params.size > 0 ? `?${params}` : "";
    return (await this.call<{ series: SeriesKey[] }>("GET", `/v1/readings/series${qs}`)).series;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.base}${path}`;
    const res = await this.fetch(url, method, body, AbortSignal.timeout(this.timeoutMs));
    return this.answer<T>(url, res);
  }

  private async fetch(
    url: string,
    method: string,
    body: unknown,
    signal: AbortSignal,
    accept?: string,
  ): Promise<Response> {
    try {
      return await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(accept ? { accept } : {}),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal,
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new MasterUnreachableError(
        this.base,
        cause?.code ?? cause?.message ?? (err as Error).message,
      );
    }
  }

  /** The JSON of `res`, or the master's error as its own class. */
  private async answer<T>(url: string, res: Response): Promise<T> {
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

/** The query string of `GET /v1/readings` (`tag` repeated per tag). */
export function readingsSearch(params: ReadingsParamsInput): URLSearchParams {
  const search = new URLSearchParams();
  const { tags, ...rest } = params;
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) search.set(k, String(v));
  for (const tag of tags ?? []) search.append("tag", tag);
  return search;
}
