import { strict as assert } from "node:assert";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readUndelivered } from "../../../buffer/index.js";
import {
  browse,
  Collector,
  decodeRecord,
  type InputStats,
  openBufferOutput,
  type RecordOutput,
  type TagValue,
  type TelemetryRecord,
} from "../../../collector/index.js";
import {
  type CertificateFiles,
  makeCertificate,
  type OpcuaTestServer,
  type OpcuaTestServerOptions,
} from "../../helpers/opcua-test-server.js";
import { collectorConfig, quietLogger, sleep, waitFor } from "../fixtures.js";

export type StartServer = (options: OpcuaTestServerOptions) => Promise<OpcuaTestServer>;

/** Every scalar the servers hold and the value the collector must record, bit for bit. */
const EXACT: Record<string, TagValue> = {
  Boolean: true,
  SByte: -128,
  Byte: 255,
  Int16: -32768,
  UInt16: 65535,
  Int32: -2147483648,
  UInt32: 4294967295,
  Int64: 2n ** 53n + 1n,
  Int64Min: -(2n ** 63n),
  UInt64: 2n ** 64n - 1n,
  UInt64Mid: 2n ** 63n + 1n,
  Float: Math.fround(0.1),
  FloatTiny: Math.fround(1.4e-45),
  Double: 0.1,
  DoubleTiny: 5e-324,
  DoubleNegZero: -0,
  String: "Grüße, 風車 🌬️ ∑",
  DateTime: "2024-02-29T12:34:56.789Z",
};

const ARRAYS: Record<string, TagValue> = {
  DoubleArray: [0, 0.5, -1.25, 1e300, -1e-300, Math.PI, Math.E, 42],
  Int32Array: [-2147483648, -1, 0, 1, 2147483647],
  BooleanArray: [true, false, true, true],
  Int64Array: [-(2n ** 63n), 2n ** 53n + 1n, 0n],
};

/** Values OPC-UA delivers that a record cannot hold as a value. */
const BAD_TYPE = ["DoubleNaN", "DoubleInf", "DoubleNegInf", "FloatNaN", "ByteString"];

/** The hang bound when `opcua.hangTimeout` is not set (the issue: at most 10 s). */
const DEFAULT_HANG_MS = 10_000;
/** The bound runs from the server's last answer, just before the stop; marking the tags takes a few event-loop turns. */
const MARK_MS = 250;
/** Data flows again this soon after the server answers a Hello, whatever the outage lasted. */
const RESUME_MS = 2_000;

const tags = (names: string[], extra: object = {}) =>
  names.map((name) => ({ name, node: `ns=1;s=${name}`, ...extra }));

/** A record and when it reached the output, for timing what the collector did. */
interface Arrival {
  at: number;
  r: TelemetryRecord;
}

class TimedOutput implements RecordOutput {
  readonly arrivals: Arrival[] = [];
  async write(records: TelemetryRecord[]): Promise<void> {
    const at = Date.now();
    for (const r of records) this.arrivals.push({ at, r });
  }
  of(device: string, tag?: string, since = 0): Arrival[] {
    return this.arrivals.filter(
      (a) => a.at >= since && a.r.device === device && (tag === undefined || a.r.tag === tag),
    );
  }
  records(device: string, tag?: string): TelemetryRecord[] {
    return this.of(device, tag).map((a) => a.r);
  }
}

function sameValue(actual: TagValue, expected: TagValue, what: string): void {
  if (typeof expected === "number") {
    // Object.is tells -0 from 0: equal doubles that are not NaN are equal bit for bit.
    assert.ok(Object.is(actual, expected), `${what}: ${String(actual)} is not ${expected}`);
  } else {
    assert.deepEqual(actual, expected, what);
  }
}

/**
 * The collector's OPC-UA behaviour, one suite for every server implementation (`start`
 * launches one in a process of its own). One server serves the whole file; a second,
 * locked down (no None endpoint, a trust list without the collector), serves the
 * certificate-refusal case. The fault cases come last: they kill and freeze the first.
 */
export function opcuaContract(implementation: string, start: StartServer): void {
  describe(`collector OPC-UA contract against ${implementation}`, function () {
    this.timeout(60_000);
    let dir: string;
    let server: OpcuaTestServer;
    let operator: CertificateFiles;
    let stranger: CertificateFiles;
    const client = () => join(dir, "client");

    /** Puts the server's certificate into the collector's trust store, as an operator would. */
    const trustServer = (dataDir: string, s: OpcuaTestServer) => {
      const trusted = join(dataDir, "pki", "trusted", "certs");
      mkdirSync(trusted, { recursive: true });
      copyFileSync(s.certificate, join(trusted, `${s.implementation}-${s.port}.pem`));
    };

    const device = (name: string, opcua: object, tagList: object[], interval = "100ms") => ({
      name,
      interval,
      opcua: { endpoint: server.endpoint, ...opcua },
      tags: tagList,
    });

    /** Runs a collector over `devices` until `done` holds (or fails after `timeoutMs`). */
    async function collect(
      devices: object[],
      done: (output: TimedOutput, collector: Collector) => boolean,
      options: { dataDir?: string; timeoutMs?: number; output?: RecordOutput } = {},
    ): Promise<{ output: TimedOutput; stats: () => InputStats[] }> {
      const output = new TimedOutput();
      const sink = options.output;
      // Records reach the timed output and, when given, the real one (whose answer counts).
      const both: RecordOutput = {
        async write(records) {
          await output.write(records);
          return sink?.write(records);
        },
      };
      const collector = new Collector(
        collectorConfig({ dataDir: options.dataDir ?? client(), devices }),
        { output: both, logger: quietLogger, backoff: { initialMs: 500, maxMs: 2000 } },
      );
      await collector.start();
      try {
        await waitFor(() => done(output, collector), options.timeoutMs ?? 30_000, "the records");
      } catch (err) {
        throw new Error(`${(err as Error).message}: ${JSON.stringify(collector.stats())}`);
      } finally {
        await collector.stop();
      }
      return { output, stats: () => collector.stats() };
    }

    before(async function () {
      // The first run compiles the server program (open62541: its library, ~40 s).
      this.timeout(300_000);
      dir = mkdtempSync(join(tmpdir(), `outpost-opcua-contract-${implementation}-`));
      operator = makeCertificate(join(dir, "certs"), "operator", "urn:outpost:test:operator");
      stranger = makeCertificate(join(dir, "certs"), "stranger", "urn:outpost:test:stranger");
      server = await start({
        dir: join(dir, "server"),
        secure: true,
        users: { operator: "s3cret" },
        userCertificates: [operator.der],
      });
      trustServer(client(), server);
    });
    after(async () => {
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("records every scalar type exactly, through the buffer: 64-bit integers, floats bit for bit, UTF-8, DateTime", async () => {
      const bufferDir = join(dir, "buffer-scalars");
      const buffer = await openBufferOutput(bufferDir, "telemetry", quietLogger);
      const names = [...Object.keys(EXACT), "Counter"];
      try {
        await collect(
          [device("types", {}, tags(names))],
          (out) => names.every((n) => out.of("types", n).length > 0),
          { output: buffer },
        );
      } finally {
        await buffer.close();
      }
      const stored: TelemetryRecord[] = [];
      for await (const f of readUndelivered(bufferDir)) stored.push(decodeRecord(f.payload));
      for (const [name, expected] of Object.entries(EXACT)) {
        const r = stored.find((x) => x.tag === name);
        assert.ok(r, `${name} stored`);
        assert.equal(r.quality, "good", `${name}: ${JSON.stringify(r.status)}`);
        assert.equal(r.status, undefined, `${name} is plain Good: no status`);
        sameValue(r.value, expected, name);
      }
      const counter = stored.filter((x) => x.tag === "Counter");
      assert.ok(counter.every((r) => r.quality === "good" && typeof r.value === "number"));
    });

    it("records NaN, ±Infinity and unsupported types as bad_type without a value, and counts them", async () => {
      const { output, stats } = await collect([device("odd", {}, tags(BAD_TYPE))], (out) =>
        BAD_TYPE.every((n) => out.of("odd", n).length > 0),
      );
      for (const name of BAD_TYPE) {
        for (const r of output.records("odd", name)) {
          assert.equal(r.quality, "bad_type", name);
          assert.equal(r.value, null, name);
        }
      }
      const [counted] = stats();
      assert.ok((counted?.unrecordable ?? 0) >= BAD_TYPE.length, JSON.stringify(counted));
    });

    it("records numeric and boolean arrays as arrays; longer than maxArrayLength is too_large", async () => {
      const { output } = await collect(
        [
          device("arrays", {}, [
            ...tags([...Object.keys(ARRAYS), "LongArray"]),
            { name: "capped", node: "ns=1;s=DoubleArray", maxArrayLength: 7 },
            { name: "at-cap", node: "ns=1;s=Int32Array", maxArrayLength: 5 },
          ]),
        ],
        (out) =>
          [...Object.keys(ARRAYS), "LongArray", "capped", "at-cap"].every(
            (n) => out.of("arrays", n).length > 0,
          ),
      );
      for (const [name, expected] of Object.entries(ARRAYS)) {
        const [r] = output.records("arrays", name);
        assert.equal(r?.quality, "good", name);
        assert.deepEqual(r?.value, expected, name);
      }
      assert.deepEqual(output.records("arrays", "at-cap")[0]?.value, ARRAYS.Int32Array);
      for (const name of ["LongArray", "capped"]) {
        const [r] = output.records("arrays", name);
        assert.equal(r?.quality, "too_large", name);
        assert.equal(r?.value, null, name);
      }
    });

    it("keeps Good-family and Uncertain values with their status; Bad has no value; an empty variable is no_value", async () => {
      const names = ["GoodClamped", "GoodOverflow", "Uncertain", "Bad", "Empty", "Counter"];
      const { output } = await collect([device("status", {}, tags(names))], (out) =>
        names.every((n) => out.of("status", n).length > 0),
      );
      const first = (name: string) => output.records("status", name)[0] as TelemetryRecord;
      assert.deepEqual(
        [first("GoodClamped").quality, first("GoodClamped").value, first("GoodClamped").status],
        ["good", 99.5, "GoodClamped"],
      );
      assert.equal(first("GoodOverflow").quality, "good");
      assert.equal(first("GoodOverflow").value, 12.5);
      assert.match(first("GoodOverflow").status ?? "", /Overflow/);
      assert.deepEqual(
        [first("Uncertain").quality, first("Uncertain").value, first("Uncertain").status],
        ["uncertain", 7.25, "UncertainLastUsableValue"],
      );
      assert.equal(first("Bad").value, null);
      assert.equal(first("Bad").quality, "BadSensorFailure");
      assert.equal(first("Bad").status, "BadSensorFailure");
      assert.deepEqual([first("Empty").quality, first("Empty").value], ["no_value", null]);
      assert.equal(first("Counter").status, undefined);
    });

    it("gives an unknown node id its status while the other tags flow; an absolute deadband holds back small changes", async () => {
      const { output } = await collect(
        [
          device("mixed", {}, [
            ...tags(["Counter"]),
            { name: "gone", node: "ns=1;s=NoSuchNode" },
            { name: "banded", node: "ns=1;s=Counter", deadband: { absolute: 1000 } },
          ]),
        ],
        (out) => out.records("mixed", "Counter").filter((r) => r.quality === "good").length >= 10,
      );
      const gone = output.records("mixed", "gone");
      assert.ok(gone.length >= 1, "the unknown node has a record");
      for (const r of gone) assert.deepEqual([r.quality, r.value], ["BadNodeIdUnknown", null]);
      assert.equal(
        output.records("mixed", "banded").length,
        1,
        "a counter moving by 1 passes a deadband of 1000 once",
      );
    });

    it("keeps values the server delivers with the Overflow bit (queueSize > 1, slow publishing)", async () => {
      const { output } = await collect(
        [
          device(
            "queued",
            {},
            [{ name: "Counter", node: "ns=1;s=Counter", samplingInterval: "100ms", queueSize: 4 }],
            "1s",
          ),
        ],
        (out) => out.records("queued").some((r) => /Overflow/.test(r.status ?? "")),
      );
      const records = output.records("queued", "Counter");
      assert.ok(records.length >= 4, `${records.length} values`);
      for (const r of records) {
        assert.equal(r.quality, "good", JSON.stringify(r));
        assert.equal(typeof r.value, "number");
      }
    });

    it("connects with Basic256Sha256, Aes128_Sha256_RsaOaep and Aes256_Sha256_RsaPss (SignAndEncrypt) and Sign", async () => {
      const secure = (policy: string, mode = "SignAndEncrypt") =>
        device(`${mode}-${policy}`, { security: { mode, policy } }, tags(["Counter"]));
      const devices = [
        secure("Basic256Sha256"),
        secure("Aes128_Sha256_RsaOaep"),
        secure("Aes256_Sha256_RsaPss"),
        secure("Basic256Sha256", "Sign"),
      ];
      const { output } = await collect(devices, (out) =>
        devices.every((d) => out.records(d.name).filter((r) => r.quality === "good").length >= 3),
      );
      for (const d of devices) assert.ok(output.records(d.name).every((r) => r.quality === "good"));
    });

    it("logs in with user and password (over None and encrypted); a wrong password leaves the tags without values naming BadUserAccessDenied", async () => {
      const user = (name: string, password: string, security: object = { mode: "None" }) =>
        device(name, { security: { ...security, user: "operator", password } }, tags(["Counter"]));
      const { output, stats } = await collect(
        [
          user("plain", "s3cret"),
          user("encrypted", "s3cret", { mode: "SignAndEncrypt", policy: "Aes256_Sha256_RsaPss" }),
          user("wrong", "guess"),
        ],
        (out) =>
          ["plain", "encrypted"].every((d) => out.records(d).some((r) => r.quality === "good")) &&
          out.records("wrong").length > 0,
      );
      assert.ok(output.records("wrong").every((r) => r.quality !== "good" && r.value === null));
      const wrong = stats().find((s) => s.device === "wrong");
      assert.match(wrong?.lastError ?? "", /BadUserAccessDenied/);
    });

    it("logs in with an X.509 user certificate the server trusts; one it does not is refused by name", async () => {
      const x509 = (name: string, cert: CertificateFiles) =>
        device(
          name,
          {
            security: {
              mode: "SignAndEncrypt",
              policy: "Basic256Sha256",
              certificate: cert.pem,
              privateKey: cert.keyPem,
            },
          },
          tags(["Counter"]),
        );
      const { output, stats } = await collect(
        [x509("operator", operator), x509("stranger", stranger)],
        (out) =>
          out.records("operator").some((r) => r.quality === "good") &&
          out.records("stranger").length > 0,
      );
      assert.ok(output.records("stranger").every((r) => r.quality !== "good" && r.value === null));
      const refused = stats().find((s) => s.device === "stranger");
      assert.match(refused?.lastError ?? "", /BadIdentityTokenRejected/);
    });

    it("refuses a server certificate it does not trust, saying which file to move where, and accepts it once moved", async () => {
      const dataDir = join(dir, "untrusting");
      const output = new TimedOutput();
      const collector = new Collector(
        collectorConfig({
          dataDir,
          devices: [
            device(
              "guarded",
              { security: { mode: "SignAndEncrypt", policy: "Basic256Sha256" } },
              tags(["Counter"]),
            ),
          ],
        }),
        { output, logger: quietLogger, backoff: { initialMs: 300, maxMs: 300 } },
      );
      await collector.start();
      try {
        await waitFor(() => output.arrivals.length > 0, 20_000, "a record");
        const [first] = output.records("guarded");
        assert.equal(first?.quality, "untrusted_certificate", collector.stats()[0]?.lastError);
        assert.equal(first?.value, null);
        const rejected = join(dataDir, "pki", "rejected");
        const [cert] = readdirSync(rejected).filter((f) => f.endsWith(".pem"));
        assert.ok(cert, "the refused certificate is kept under rejected/");
        const message = collector.stats()[0]?.lastError ?? "";
        assert.ok(message.includes(join(rejected, cert)), message);
        assert.ok(message.includes(join(dataDir, "pki", "trusted", "certs")), message);
        renameSync(join(rejected, cert), join(dataDir, "pki", "trusted", "certs", cert));
        await waitFor(
          () => output.records("guarded").some((r) => r.quality === "good"),
          30_000,
          "a good value once trusted",
        );
      } finally {
        await collector.stop();
      }
    });

    it("is refused by a server that does not trust its certificate: a typed error naming the file to copy; a server without None gets a typed endpoint error", async () => {
      const strictDir = join(dir, "strict");
      const other = makeCertificate(join(dir, "certs"), "other", "urn:outpost:test:other");
      let strict = await start({ dir: strictDir, secure: true, noNone: true, trust: [other.der] });
      try {
        trustServer(client(), strict);
        const own = readdirSync(join(client(), "pki", "own", "certs")).find((f) =>
          f.endsWith(".pem"),
        );
        assert.ok(own, "the collector has its own certificate");
        const ownFile = join(client(), "pki", "own", "certs", own);
        const security = { mode: "SignAndEncrypt" as const, policy: "Basic256Sha256" };
        await assert.rejects(
          browse(strict.endpoint, { dataDir: client(), depth: 1, security }),
          (err: Error & { code?: string }) => {
            assert.equal(err.code, "E_OPCUA_CERT_REFUSED", err.message);
            assert.ok(err.message.includes(ownFile), err.message);
            assert.match(err.message, /BadSecurityChecksFailed|BadCertificateUntrusted/);
            return true;
          },
        );
        await assert.rejects(
          browse(strict.endpoint, { dataDir: client(), depth: 1 }),
          (err: Error & { code?: string }) => {
            assert.equal(err.code, "E_OPCUA_ENDPOINT", err.message);
            assert.match(err.message, /SignAndEncrypt\/Basic256Sha256/);
            return true;
          },
        );

        const output = new TimedOutput();
        const collector = new Collector(
          collectorConfig({
            dataDir: client(),
            devices: [
              {
                name: "locked",
                interval: "100ms",
                opcua: { endpoint: strict.endpoint, security },
                tags: tags(["Counter"]),
              },
            ],
          }),
          { output, logger: quietLogger, backoff: { initialMs: 300, maxMs: 1000 } },
        );
        await collector.start();
        try {
          await waitFor(() => output.arrivals.length > 0, 20_000, "a record");
          assert.ok(
            output.records("locked").every((r) => r.quality !== "good" && r.value === null),
          );
          const message = collector.stats()[0]?.lastError ?? "";
          assert.ok(message.includes(ownFile), message);
          // What the message says to do: the server's operator trusts the collector's file.
          await strict.stop();
          strict = await start({
            dir: strictDir,
            port: strict.port,
            secure: true,
            noNone: true,
            trust: [ownFile],
          });
          await waitFor(
            () => output.records("locked").some((r) => r.quality === "good"),
            30_000,
            "a good value once the server trusts the collector",
          );
        } finally {
          await collector.stop();
        }
      } finally {
        await strict.stop();
      }
    });

    it("writes one too_large record per sample of a 1 MiB string, counted, while the device's other tags keep flowing", async () => {
      const bufferDir = join(dir, "buffer-oversize");
      const buffer = await openBufferOutput(bufferDir, "telemetry", quietLogger);
      let stats: () => InputStats[];
      try {
        ({ stats } = await collect(
          [device("big", {}, tags(["Counter", "BigString"]), "500ms")],
          (out) => out.of("big", "BigString").length >= 8,
          { output: buffer },
        ));
      } finally {
        await buffer.close();
      }
      const stored: TelemetryRecord[] = [];
      for await (const f of readUndelivered(bufferDir)) stored.push(decodeRecord(f.payload));
      const big = stored.filter((r) => r.tag === "BigString");
      const counter = stored.filter((r) => r.tag === "Counter");
      assert.ok(big.length >= 8, `${big.length} BigString records stored`);
      for (const r of big) {
        assert.equal(r.quality, "too_large");
        assert.equal(r.value, null);
      }
      // One record per sample: a new 1 MiB value comes every 100 ms, sampled every 500 ms
      // like the counter beside it, and no sample is recorded twice.
      assert.equal(new Set(big.map((r) => r.ts)).size, big.length, "a distinct sample each");
      assert.ok(Math.abs(big.length - counter.length) <= 2, `${big.length} vs ${counter.length}`);
      assert.ok(counter.every((r) => r.quality === "good" && typeof r.value === "number"));
      // Read once the buffer is closed: every write the collector started has settled.
      const [counted] = stats();
      assert.ok((counted?.unrecordable ?? 0) >= big.length, JSON.stringify(counted));
      assert.equal(counted?.outputErrors, 0);
    });

    describe("server faults", () => {
      const FAULT_TAGS = ["Counter", "Double", "String"];
      let output: TimedOutput;
      let collector: Collector;

      beforeEach(async () => {
        output = new TimedOutput();
        collector = new Collector(
          collectorConfig({
            dataDir: client(),
            devices: [device("plant", {}, tags(FAULT_TAGS))],
          }),
          { output, logger: quietLogger },
        );
        await collector.start();
        await waitFor(
          () => output.records("plant", "Counter").some((r) => r.quality === "good"),
          20_000,
          "the counter",
        );
      });
      afterEach(async () => {
        server.resume();
        await collector.stop();
      });

      /** Every tag has a bad record arriving at or after `since`; when the first came. */
      async function outageMarked(since: number, timeoutMs: number): Promise<number> {
        await waitFor(
          () =>
            FAULT_TAGS.every((t) =>
              output.of("plant", t, since).some((a) => a.r.quality === "comm_error"),
            ),
          timeoutMs,
          "comm_error on every tag",
        );
        const marks = output
          .of("plant", undefined, since)
          .filter((a) => a.r.quality === "comm_error");
        for (const a of marks) assert.equal(a.r.value, null);
        return Math.min(...marks.map((a) => a.at));
      }

      /**
       * Every tag gets one `resumed` record bounding the outage, ahead of any value of
       * its own that follows the outage's marks (`since`: a value the server sent just
       * before a kill can still arrive before the loss is noticed). A tag whose value did not change need not get one again
       * when the session survived (the server notifies changes only).
       */
      async function assertResumed(since: number, outageStart: number, outageEnd: number) {
        await waitFor(
          () =>
            FAULT_TAGS.every((t) =>
              output.of("plant", t, since).some((a) => a.r.quality === "resumed"),
            ),
          5_000,
          "resumed on every tag",
        );
        for (const t of FAULT_TAGS) {
          const after = output.of("plant", t, since);
          const resumed = after.filter((a) => a.r.quality === "resumed");
          assert.equal(resumed.length, 1, `${t}: one resumed record, got ${resumed.length}`);
          const firstValue = after.findIndex((a) => a.r.quality === "good");
          if (firstValue >= 0) {
            assert.ok(after.indexOf(resumed[0] as Arrival) < firstValue, `${t}: resumed first`);
          }
          const { outageFrom, outageTo } = (resumed[0] as Arrival).r;
          assert.ok(outageFrom !== undefined && outageTo !== undefined, `${t}: outage bounds`);
          assert.ok(
            outageFrom >= outageStart - 1_000 && outageFrom <= outageStart + DEFAULT_HANG_MS,
            `${t}: outageFrom ${outageFrom - outageStart} ms`,
          );
          assert.ok(
            outageTo >= outageEnd && outageTo <= Date.now(),
            `${t}: outageTo ${outageTo - outageEnd} ms`,
          );
        }
      }

      it("after kill -9 and 10 s down: comm_error per tag, data within 2 s of the restart, a counter gap of at most 20 values, resumed per tag", async function () {
        this.timeout(90_000);
        const lastBefore = output
          .records("plant", "Counter")
          .filter((r) => r.quality === "good")
          .at(-1);
        const killedAt = Date.now();
        await server.kill9();
        const marked = await outageMarked(killedAt, DEFAULT_HANG_MS);
        assert.ok(marked - killedAt <= DEFAULT_HANG_MS, `marked after ${marked - killedAt} ms`);
        await sleep(killedAt + 10_000 - Date.now());
        const restartAt = Date.now();
        await server.restart();
        const servingAt = Date.now();
        await waitFor(
          () => output.of("plant", "Counter", servingAt).some((a) => a.r.quality === "good"),
          15_000,
          "the counter again",
        );
        const first = output
          .of("plant", "Counter", servingAt)
          .find((a) => a.r.quality === "good") as Arrival;
        assert.ok(
          first.at - servingAt <= RESUME_MS,
          `data ${first.at - servingAt} ms after the server returned`,
        );
        const gap = Number(first.r.value) - Number(lastBefore?.value);
        assert.ok(gap >= 0 && gap <= 20, `counter gap ${gap} values`);
        await waitFor(
          () =>
            FAULT_TAGS.every((t) =>
              output.of("plant", t, servingAt).some((a) => a.r.quality === "good"),
            ),
          5_000,
          "every tag again",
        );
        await assertResumed(marked, killedAt, restartAt);
      });

      it("after a 30 s SIGSTOP: the hang is detected within the bound, data flows within 2 s of SIGCONT, resumed per tag", async function () {
        this.timeout(90_000);
        const stoppedAt = Date.now();
        server.pause();
        const marked = await outageMarked(stoppedAt, DEFAULT_HANG_MS + 5_000);
        assert.ok(
          marked - stoppedAt <= DEFAULT_HANG_MS + MARK_MS,
          `hang detected ${marked - stoppedAt} ms after SIGSTOP`,
        );
        await sleep(stoppedAt + 30_000 - Date.now());
        const continuedAt = Date.now();
        server.resume();
        await waitFor(
          () => output.of("plant", "Counter", continuedAt).some((a) => a.r.quality === "good"),
          15_000,
          "the counter again",
        );
        const first = output
          .of("plant", "Counter", continuedAt)
          .find((a) => a.r.quality === "good") as Arrival;
        assert.ok(
          first.at - continuedAt <= RESUME_MS,
          `data ${first.at - continuedAt} ms after SIGCONT`,
        );
        await assertResumed(marked, stoppedAt, continuedAt);
      });
    });
  });
}
