import type { EventEmitter } from "node:events";
import modbusSerial from "modbus-serial";
import type { ModbusRTU } from "modbus-serial/ModbusRTU.js";
import { Backoff, type Logger } from "../../common/index.js";
import {
  ModbusConnectionError,
  ModbusExceptionError,
  ModbusResponseError,
  ModbusTimeoutError,
} from "../errors.js";
import { type Transport, transportKey } from "./transport.js";

/** The package's CommonJS export is the client class itself. */
const ModbusClient = modbusSerial as unknown as new () => ModbusRTU;

export type ReadFunction = 1 | 2 | 3 | 4;

/** Consecutive timeouts (with no good reply between) after which a TCP line is reopened. */
const TIMEOUTS_BEFORE_RESET = 3;

interface Waiter {
  resolve(): void;
}

type Callback<T> = (err: Error | null, res?: T) => void;

/**
 * One connection to a Modbus TCP server, RTU-over-TCP gateway or RTU serial line, shared
 * by every device (unit id) behind it. It opens lazily and reopens with backoff, keeps
 * at most `pipeline` requests in flight on TCP and exactly one on RTU, and turns the
 * library's errors into typed ones.
 *
 * Late replies: on Modbus TCP, modbus-serial keys each request by its MBAP transaction
 * id and drops a reply whose request already timed out, so a late reply never answers a
 * later request. RTU framing has no transaction id, so after a timeout an RTU line is
 * closed and reopened, which discards anything still on its way.
 */
export class ModbusLine {
  readonly key: string;
  private client: ModbusRTU | undefined;
  private opening: Promise<ModbusRTU> | undefined;
  private nextAttemptAt = 0;
  private readonly backoff = new Backoff({ initialMs: 500, maxMs: 30_000, jitter: "bounded" });
  private inFlight = 0;
  private readonly waiting: Waiter[] = [];
  private readonly pending = new Set<(err: Error) => void>();
  private consecutiveTimeouts = 0;
  private closed = false;
  private readonly slots: number;
  /** Requests sent, requests timed out, and reconnects: `Collector.lineStats()`. */
  readonly counters = { requests: 0, timeouts: 0, reconnects: 0 };

  constructor(
    private readonly transport: Transport,
    pipeline: number,
    private readonly logger: Logger,
  ) {
    this.key = transportKey(transport);
    this.slots = transport.kind === "tcp" ? pipeline : 1;
  }

  /** Reads `count` registers (FC 3/4, as numbers) or bits (FC 1/2, as booleans). */
  async read(
    unit: number,
    fc: ReadFunction,
    address: number,
    count: number,
    timeoutMs: number,
    device: string,
  ): Promise<number[] | boolean[]> {
    const res = await this.request<{ data: number[] | boolean[] }>(device, timeoutMs, (c, cb) => {
      if (fc === 1) c.writeFC1(unit, address, count, cb);
      else if (fc === 2) c.writeFC2(unit, address, count, cb);
      else if (fc === 3) c.writeFC3(unit, address, count, cb);
      else c.writeFC4(unit, address, count, cb);
    });
    if (res.data.length < count) {
      throw new ModbusResponseError(device, `expected ${count} values, got ${res.data.length}`);
    }
    return res.data.slice(0, count) as number[] | boolean[];
  }

  /** FC 5 (one coil), 15 (coils), 6 (one register), 16 (registers). */
  async write(
    unit: number,
    address: number,
    value: boolean | boolean[] | number | number[],
    timeoutMs: number,
    device: string,
  ): Promise<void> {
    await this.request<unknown>(device, timeoutMs, (c, cb) => {
      if (typeof value === "boolean") c.writeFC5(unit, address, value, cb);
      else if (typeof value === "number") c.writeFC6(unit, address, value, cb);
      else if (value.every((v) => typeof v === "boolean")) c.writeFC15(unit, address, value, cb);
      else c.writeFC16(unit, address, value as number[], cb);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.reset(new ModbusConnectionError(this.key, "line closed"));
  }

  private async request<T>(
    device: string,
    timeoutMs: number,
    send: (client: ModbusRTU, cb: Callback<T>) => void,
  ): Promise<T> {
    await this.acquire();
    try {
      const client = await this.open();
      return await this.exchange(client, device, timeoutMs, send);
    } finally {
      this.release();
    }
  }

  private exchange<T>(
    client: ModbusRTU,
    device: string,
    timeoutMs: number,
    send: (client: ModbusRTU, cb: Callback<T>) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const finish = (err: Error | null, res?: T) => {
        if (done) return;
        done = true;
        clearTimeout(guard);
        this.pending.delete(fail);
        if (err) reject(err);
        else resolve(res as T);
      };
      const fail = (err: Error) => finish(err);
      // modbus-serial cancels its own timers when the port closes and never calls back;
      // this guard settles the request anyway.
      const guard = setTimeout(() => fail(this.onTimeout(device, timeoutMs)), timeoutMs + 250);
      this.pending.add(fail);
      this.counters.requests++;
      client.setTimeout(timeoutMs);
      try {
        send(client, (err, res) => {
          if (done) return;
          // Out of the pending set first: classifying may reset the line, which fails
          // whatever is pending with a connection error instead of this reply's own.
          this.pending.delete(fail);
          if (err) finish(this.classify(err, device, timeoutMs));
          else {
            this.consecutiveTimeouts = 0;
            finish(null, res);
          }
        });
      } catch (err) {
        finish(this.classify(err as Error, device, timeoutMs));
      }
    });
  }

  private classify(err: Error & { modbusCode?: number }, device: string, timeoutMs: number): Error {
    if (typeof err.modbusCode === "number") {
      this.consecutiveTimeouts = 0;
      return new ModbusExceptionError(device, err.modbusCode);
    }
    if (err.name === "TransactionTimedOutError") return this.onTimeout(device, timeoutMs);
    if (err.name === "PortNotOpenError") {
      this.reset(new ModbusConnectionError(this.key, "port closed"));
      return new ModbusConnectionError(this.key, "port not open");
    }
    // Length, CRC, unit or function mismatches: the stream may be out of step (garbage
    // in an MBAP length field stalls the parser), so start the next request afresh.
    this.reset(new ModbusConnectionError(this.key, "reset after a malformed reply"));
    return new ModbusResponseError(device, err.message);
  }

  private onTimeout(device: string, timeoutMs: number): ModbusTimeoutError {
    this.counters.timeouts++;
    this.consecutiveTimeouts++;
    const err = new ModbusTimeoutError(device, timeoutMs);
    if (this.transport.kind !== "tcp" || this.consecutiveTimeouts >= TIMEOUTS_BEFORE_RESET) {
      this.logger.warn({ line: this.key, timeouts: this.consecutiveTimeouts }, "modbus.line_reset");
      this.consecutiveTimeouts = 0;
      this.reset(err);
    }
    return err;
  }

  /** Drops the connection (failing requests still waiting on it); the next request reopens. */
  private reset(reason: Error): void {
    const client = this.client;
    this.client = undefined;
    this.opening = undefined;
    for (const fail of [...this.pending]) fail(reason);
    if (client) {
      (client as unknown as EventEmitter).removeAllListeners("close");
      client.close(() => {});
    }
  }

  private async open(): Promise<ModbusRTU> {
    if (this.closed) throw new ModbusConnectionError(this.key, "line closed");
    if (this.client?.isOpen) return this.client;
    if (this.opening) return this.opening;
    const wait = this.nextAttemptAt - Date.now();
    if (wait > 0) {
      throw new ModbusConnectionError(this.key, `not connected; next attempt in ${wait} ms`);
    }
    this.opening = this.connect().then(
      (client) => {
        this.backoff.reset();
        this.client = client;
        this.opening = undefined;
        return client;
      },
      (err: Error) => {
        this.opening = undefined;
        const delay = this.backoff.next();
        this.nextAttemptAt = Date.now() + delay;
        this.logger.warn(
          { line: this.key, err: err.message, retryInMs: delay },
          "modbus.connect_failed",
        );
        throw new ModbusConnectionError(this.key, `cannot connect (${err.message})`);
      },
    );
    return this.opening;
  }

  private async connect(): Promise<ModbusRTU> {
    const client = new ModbusClient();
    const t = this.transport;
    if (t.kind === "tcp") await client.connectTCP(t.host, { port: t.port });
    // modbus-serial's "TcpRTUBuffered" port speaks MBAP framing; its Telnet port is the
    // one that carries raw RTU frames (with CRC) over TCP, as serial gateways expect.
    else if (t.kind === "rtuOverTcp") await client.connectTelnet(t.host, { port: t.port });
    else {
      await client.connectRTUBuffered(t.serial.port, {
        baudRate: t.serial.baud,
        parity: t.serial.parity,
        dataBits: t.serial.dataBits,
        stopBits: t.serial.stopBits,
      });
    }
    if (this.counters.requests > 0) this.counters.reconnects++;
    this.logger.info({ line: this.key }, "modbus.connected");
    client.on("close", () => {
      if (this.client !== client) return;
      this.logger.warn({ line: this.key }, "modbus.disconnected");
      this.reset(new ModbusConnectionError(this.key, "connection closed by peer"));
    });
    client.on("error", () => {});
    return client;
  }

  private acquire(): Promise<void> {
    if (this.inFlight < this.slots) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push({ resolve }));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next.resolve();
    else this.inFlight--;
  }
}
