import { InvalidArgumentError } from "commander";
import { isDuration, parseDuration, renderTable } from "../../common/index.js";
import type { TelemetryAnswer } from "../../master/index.js";
import { printState, withJsonOption } from "../output.js";
import type { RegisterCommand } from "../program.js";
import { formatTime } from "./format-time.js";
import { masterClient, withMasterOptions } from "./master-client.js";
import { registerExport } from "./telemetry-export.js";
import { registerFollow } from "./telemetry-follow.js";
import { registerReadings } from "./telemetry-readings.js";

/**
 * `outpost telemetry query [--node] [--stream] [--since] [--json]`: chunks the master
 * holds; `telemetry readings` and `telemetry export`: the readings decoded from them;
 * `telemetry follow`: readings live from NATS JetStream.
 */
export const registerTelemetry: RegisterCommand = (program, context) => {
  const telemetry = program.command("telemetry").description("telemetry received by the master");
  withJsonOption(
    withMasterOptions(
      telemetry
        .command("query")
        .description("list received chunks, reported losses and sequence gaps")
        .option("--node <name>", "only this node")
        .option("--stream <name>", "only this stream")
        .option(
          "--since <time>",
          "only what arrived since an ISO 8601 time or a duration ago (30s, 15m, 2h, 1d)",
          parseSince,
        ),
    ),
  ).action(
    async (options: {
      node?: string;
      stream?: string;
      since?: number;
      json?: boolean;
      master?: string;
      tokenFile?: string;
    }) => {
      const answer = await (await masterClient(options)).telemetry({
        node: options.node,
        stream: options.stream,
        since: options.since,
      });
      printState(context.io, options, answer, render);
    },
  );
  registerReadings(telemetry, context);
  registerExport(telemetry, context);
  registerFollow(telemetry, context);
};

/** An ISO 8601 time or a duration before now, as ms since the epoch. */
export function parseSince(text: string, now = Date.now()): number {
  if (isDuration(text)) return now - parseDuration(text);
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) {
    throw new InvalidArgumentError(
      `expected an ISO 8601 time (2026-01-31T12:00:00Z) or a duration (30s, 15m, 2h, 1d), got '${text}'`,
    );
  }
  return at;
}

function render(answer: TelemetryAnswer): string {
  const parts: string[] = [];
  parts.push(
    answer.chunks.length === 0
      ? "no chunks"
      : renderTable([
          ["NODE", "STREAM", "CHUNK", "SEQ", "RECORDS", "RECEIVED"],
          ...answer.chunks.map((c) => [
            c.node,
            c.stream,
            String(c.chunkId),
            `${c.firstSeq}-${c.lastSeq}`,
            String(c.records),
            formatTime(c.receivedAt),
          ]),
        ]),
  );
  for (const l of answer.losses) {
    parts.push(
      `lost: ${l.node} ${l.stream} ${l.fromSeq}-${l.toSeq} (${l.records} records, ${l.reason})`,
    );
  }
  for (const g of answer.gaps) {
    parts.push(
      `gap: ${g.node} ${g.stream} ${g.fromSeq}-${g.toSeq}${g.reported ? " (reported lost)" : ""}`,
    );
  }
  for (const n of answer.readingCounts ?? []) {
    parts.push(
      `readings: ${n.node} ${n.late} late, ${n.clockSuspect} clock-suspect, ${n.expired} expired on arrival (past raw retention); chunks kept raw: ${n.awaitingSchema} awaiting their schema, ${n.decodeFailed} failed to decode`,
    );
  }
  for (const f of answer.decodeFailures ?? []) {
    parts.push(`decode failed: ${f.node} chunk ${f.chunkId} (${f.stream}): ${f.error}`);
  }
  return parts.join("\n");
}
