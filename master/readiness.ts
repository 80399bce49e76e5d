import type { FastifyInstance } from "fastify";
import type { Logger } from "../common/index.js";
import type { MasterStore } from "./store.js";

/** How long `/readyz` waits for the store's trivial query. */
export const READY_DEADLINE_MS = 1_000;

/**
 * Why a master is not ready, as `/readyz` says it: a word per part, never an error text
 * (that could name hosts, paths or users; the log has it).
 */
export type NotReadyReason = "store_unreachable" | "store_slow" | "link_down";

export interface Readiness {
  ready: boolean;
  reasons: NotReadyReason[];
}

/**
 * Whether this master can serve: its store answers `ping` within the deadline and its
 * node link is bound. Probes arriving while one check runs share it, so a load balancer
 * probing a master whose database hangs never piles queries up on it. The log says when
 * readiness flips (`master.not_ready` with the store's error, `master.ready`), not per probe.
 */
export class ReadinessCheck {
  private running: Promise<Readiness> | undefined;
  private wasReady = true;

  constructor(
    private readonly store: MasterStore,
    private readonly linkBound: () => boolean,
    private readonly logger: Logger,
    private readonly deadlineMs = READY_DEADLINE_MS,
  ) {}

  check(): Promise<Readiness> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<Readiness> {
    const reasons: NotReadyReason[] = [];
    if (!this.linkBound()) reasons.push("link_down");
    const store = await this.pingStore();
    if (store !== "ok") reasons.push(store.reason);
    const ready = reasons.length === 0;
    if (ready !== this.wasReady) {
      if (ready) this.logger.info({}, "master.ready");
      else
        this.logger.warn(
          { reasons, err: store === "ok" ? undefined : store.error },
          "master.not_ready",
        );
      this.wasReady = ready;
    }
    return { ready, reasons };
  }

  private async pingStore(): Promise<"ok" | { reason: NotReadyReason; error?: string }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), this.deadlineMs);
    });
    try {
      const answer = await Promise.race([this.store.ping().then(() => "ok" as const), late]);
      return answer === "ok" ? "ok" : { reason: "store_slow" };
    } catch (err) {
      return { reason: "store_unreachable", error: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * `GET /healthz`: 200 while the process serves HTTP at all. `GET /readyz`: 200 when
 * ready, else 503 with the reasons. Both open (no token: probes of load balancers and
 * service managers hold none) and both tell only what any client finds out anyway by
 * trying the API: that the master is up, and which of its parts is down, by a fixed word.
 */
export function registerHealthRoutes(app: FastifyInstance, readiness: ReadinessCheck): void {
  app.get(
    "/healthz",
    {
      schema: {
        summary: "Liveness: 200 while the process serves (no token)",
        response: {
          200: {
            description: "Alive",
            type: "object",
            properties: { status: { const: "ok" } },
          },
        },
      },
    },
    async () => ({ status: "ok" }),
  );
  const readinessSchema = {
    type: "object",
    required: ["ready", "reasons"],
    properties: {
      ready: { type: "boolean" },
      reasons: {
        type: "array",
        items: { enum: ["store_unreachable", "store_slow", "link_down"] },
      },
    },
  } as const;
  app.get(
    "/readyz",
    {
      schema: {
        summary: `Readiness: the store answers within ${READY_DEADLINE_MS} ms and the node link is bound (no token)`,
        response: {
          200: { description: "Ready", ...readinessSchema },
          503: { description: "Not ready, and why", ...readinessSchema },
        },
      },
    },
    async (_request, reply) => {
      const state = await readiness.check();
      return reply.code(state.ready ? 200 : 503).send(state);
    },
  );
}
