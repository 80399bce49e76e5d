import type { AddressInfo } from "node:net";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Logger } from "../common/index.js";
import type { InstanceReport } from "../protocol/index.js";

/** What the metrics read at scrape time. */
export interface AgentMetricsSource {
  instances(): InstanceReport[];
  /** Restarts of every supervised process since the agent started. */
  restarts(): number;
  online(): boolean;
  installFailures(): number;
  /** Moves of each link to the master (`control`: sync and report; `telemetry`: the relay). */
  failovers(): Record<"control" | "telemetry", number>;
}

/** The agent's Prometheus metrics, in a registry of its own (several agents per process in tests). */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly passes = new Counter({
    name: "outpost_agent_converge_passes_total",
    help: "Converge passes run",
    registers: [this.registry],
  });
  readonly passSeconds = new Histogram({
    name: "outpost_agent_converge_pass_seconds",
    help: "Time of one converge pass (sync, apply, report)",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor(source: AgentMetricsSource) {
    collectDefaultMetrics({ register: this.registry, prefix: "outpost_agent_" });
    new Gauge({
      name: "outpost_agent_instances",
      help: "Instances on this node, by reported status",
      labelNames: ["status"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const i of source.instances()) this.inc({ status: i.status });
      },
    });
    new Gauge({
      name: "outpost_agent_failing_promises",
      help: "Promises whose latest check failed",
      registers: [this.registry],
      collect() {
        this.set(
          source.instances().reduce((n, i) => n + i.promises.filter((p) => !p.ok).length, 0),
        );
      },
    });
    new Gauge({
      name: "outpost_agent_process_restarts",
      help: "Restarts of supervised processes since the agent started",
      registers: [this.registry],
      collect() {
        this.set(source.restarts());
      },
    });
    new Gauge({
      name: "outpost_agent_master_online",
      help: "1 when the last pass reached the master",
      registers: [this.registry],
      collect() {
        this.set(source.online() ? 1 : 0);
      },
    });
    new Counter({
      name: "outpost_agent_link_failovers_total",
      help: "Moves of a link to another master, by link (control, telemetry)",
      labelNames: ["link"],
      registers: [this.registry],
      collect() {
        // Read from the links at scrape time: a counter kept by its owner.
        this.reset();
        for (const [link, moves] of Object.entries(source.failovers())) this.inc({ link }, moves);
      },
    });
    new Gauge({
      name: "outpost_agent_install_failures",
      help: "Software releases whose last install failed",
      registers: [this.registry],
      collect() {
        this.set(source.installFailures());
      },
    });
  }
}

/**
 * Serves `GET /metrics` on `host:port` (port 0: any). No authentication: bind it to
 * loopback or a management network. Errors as every Outpost HTTP server answers them
 * (`{ "error": { "code", "message" } }`, an unknown path `E_AGENT_API_NOT_FOUND`).
 */
export async function serveMetrics(
  metrics: AgentMetrics,
  host: string,
  port: number,
  logger: Logger,
): Promise<{ url: string; close(): Promise<void> }> {
  const { addMetricsRoute, createHttpServer } = await import("../common/http-server.js");
  const app = createHttpServer({
    statusByCode: METRICS_HTTP_STATUS,
    codes: {
      invalid: "E_AGENT_API_INVALID",
      notFound: "E_AGENT_API_NOT_FOUND",
      tooLarge: "E_AGENT_API_TOO_LARGE",
    },
    logger,
    bodyLimit: 1024,
  });
  addMetricsRoute(app, metrics.registry);
  await app.listen({ host, port });
  const address = app.server.address() as AddressInfo;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${address.port}/metrics`,
    close: () => app.close(),
  };
}

/** The metrics server's error codes and their HTTP status (docs/errors.md). */
const METRICS_HTTP_STATUS: Readonly<Record<string, number>> = {
  E_AGENT_API_INVALID: 400,
  E_AGENT_API_NOT_FOUND: 404,
  E_AGENT_API_TOO_LARGE: 413,
};
