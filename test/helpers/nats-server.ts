import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  type Reading,
  readTelemetryMessage,
  TELEMETRY_STREAM,
  type TelemetryMessage,
} from "../../master/index.js";
import { freePort } from "./free-port.js";
import { eventually } from "./until.js";

export interface NatsServer {
  /** `nats://127.0.0.1:PORT`. */
  url: string;
  port: number;
  /** The HTTP monitoring port (`/healthz`, `/jsz`). */
  monitorPort: number;
  /** JetStream's store directory (kept across `stop()` and `start()`). */
  storeDir: string;
  /** Whether the server runs now. */
  running(): boolean;
  /** Stops the server (SIGTERM: a clean shutdown; SIGKILL: a crash), keeping its store. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same ports and store; resolves once it is ready. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

/**
 * Debian's `nats-server` (see .ci/debian-packages) of its own for one test file:
 * JetStream on (`-js`) with its store in a fresh temp directory, listening on free
 * loopback ports only (clients and monitoring), optionally asking for a token. Ready once
 * its monitoring `/healthz` answers ok, which covers JetStream.
 */
export async function startNats(
  options: {
    token?: string;
    /** A configuration file's text (TLS, users), given with `-c`; the flags above still hold. */
    config?: string;
  } = {},
): Promise<NatsServer> {
  const dir = mkdtempSync(join(tmpdir(), "outpost-nats-"));
  const storeDir = join(dir, "store");
  const port = await freePort();
  const monitorPort = await freePort();
  const configFile = options.config === undefined ? undefined : join(dir, "server.conf");
  if (configFile) writeFileSync(configFile, options.config ?? "");
  let child: ChildProcess | undefined;
  let log = "";
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const stop = async (signal: NodeJS.Signals = "SIGTERM"): Promise<void> => {
    if (!child || !running()) return;
    const exited = new Promise((resolve) => child?.once("exit", resolve));
    child.kill(signal);
    await exited;
  };

  const start = async (): Promise<void> => {
    if (running()) return;
    log = "";
    child = spawn(
      "nats-server",
      [
        ...["-js", "-sd", storeDir],
        ...["-a", "127.0.0.1", "-p", String(port)],
        ...["-m", String(monitorPort)],
        ...(options.token ? ["--auth", options.token] : []),
        ...(configFile ? ["-c", configFile] : []),
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    child.stderr?.on("data", (b: Buffer) => {
      log = (log + b.toString()).slice(-4000);
    });
    await eventually("nats-server ready", 20_000, async () => {
      if (!running()) throw new Error(`nats-server exited: ${log}`);
      return fetch(`http://127.0.0.1:${monitorPort}/healthz`).then(
        (r) => (r.ok ? true : undefined),
        () => undefined,
      );
    });
  };

  try {
    await start();
  } catch (err) {
    await stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorPort,
    storeDir,
    running,
    stop,
    start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A message of the telemetry stream as JetStream stored it. */
export interface StoredTelemetry {
  seq: number;
  subject: string;
  msgId: string;
  message: TelemetryMessage;
  readings: Reading[];
}

/** A client connection to `server` for a test's own look (closed by `use`'s end). */
export async function withNats<T>(
  server: NatsServer,
  use: (nc: NatsConnection) => Promise<T>,
  token?: string,
): Promise<T> {
  const nc = await connect({ servers: server.url, ...(token ? { token } : {}) });
  try {
    return await use(nc);
  } finally {
    await nc.close();
  }
}

/** Every message the telemetry stream holds, in stream order (none when it does not exist). */
export function telemetryStream(server: NatsServer, token?: string): Promise<StoredTelemetry[]> {
  return withNats(
    server,
    async (nc) => {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(TELEMETRY_STREAM).catch((err) => {
        if (err instanceof JetStreamApiError) return undefined;
        throw err;
      });
      const out: StoredTelemetry[] = [];
      if (!info || info.state.messages === 0) return out;
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(TELEMETRY_STREAM, { seq });
        if (!m) continue;
        const { message, readings } = readTelemetryMessage(m.data);
        out.push({
          seq,
          subject: m.subject,
          msgId: m.header.get("Nats-Msg-Id"),
          message,
          readings,
        });
      }
      return out;
    },
    token,
  );
}

/** Deletes the telemetry stream (between cases sharing a server); no error when it is missing. */
export function dropTelemetryStream(server: NatsServer, token?: string): Promise<void> {
  return withNats(
    server,
    async (nc) => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(TELEMETRY_STREAM).catch((err) => {
        if (!(err instanceof JetStreamApiError)) throw err;
      });
    },
    token,
  );
}
