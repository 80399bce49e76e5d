import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Script } from "node:vm";
import { deflateSync } from "node:zlib";
import { pino } from "pino";
import { encodeRecords } from "../../../buffer/index.js";
import {
  encodeRecord,
  RECORD_SCHEMA,
  RECORD_SCHEMA_FINGERPRINT,
  type TelemetryRecord,
} from "../../../collector/index.js";
import {
  MasterClient,
  openDataDir,
  placeInstance,
  type RunningMaster,
  type StatusSnapshot,
  startMaster,
} from "../../../master/index.js";
import { generateKeyPair, NodeLink } from "../../../protocol/index.js";

function records(from: number, n: number): TelemetryRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    device: "turbine-1",
    tag: "rotor_rpm",
    ts: 1_700_000_000_000 + (from + i) * 1000,
    value: 10 + from + i,
    quality: "good",
    unit: "rpm",
  }));
}

describe("master status page and its live feed", function () {
  this.timeout(20_000);
  let dir: string;
  let master: RunningMaster;
  let token: string;
  let link: NodeLink;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "outpost-status-"));
    master = await startMaster({
      data: dir,
      listen: "tcp://127.0.0.1:*",
      http: "127.0.0.1:0",
      logger: pino({ level: "silent" }),
    });
    token = openDataDir(dir).adminToken;
    const keys = generateKeyPair();
    await new MasterClient(master.url, token).addNode("gw-1", keys.publicKey);
    link = new NodeLink({
      endpoint: master.endpoint,
      masterPublicKey: master.publicKey,
      keyPair: keys,
      timeoutMs: 5000,
    });
    await link.hello({
      agentVersion: "0.0.0-test",
      arch: "x64",
      board: "test",
      cpus: 2,
      partitions: 2,
      isolatedCores: [1],
    });
  });

  async function snapshot(): Promise<StatusSnapshot> {
    const res = await fetch(`${master.url}/v1/status`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200);
    return (await res.json()) as StatusSnapshot;
  }

  after(async () => {
    await link?.close();
    await master?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the page without the token and the data only with it", async () => {
    const page = await fetch(`${master.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    const html = await page.text();
    assert.match(html, /<title>Outpost master<\/title>/);
    assert.doesNotMatch(html, /https?:\/\/(?!master)/, "no asset from elsewhere");
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? "");
    assert.equal(scripts.length, 2, "the chart's script and the page's");
    for (const script of scripts) {
      assert.ok(script.length > 1000, "the page carries its scripts");
      assert.doesNotThrow(() => new Script(script), "the page's scripts parse");
    }
    for (const src of [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? "")) {
      const asset = await fetch(`${master.url}${src}`);
      assert.equal(asset.status, 200, `${src} is served, without the token`);
      assert.ok((await asset.text()).length > 1000);
    }
    assert.equal((await fetch(`${master.url}/v1/status`)).status, 401);
    assert.equal((await fetch(`${master.url}/v1/events`)).status, 401);
  });

  it("shows the node online and serves the chart the readings of committed chunks, once each", async () => {
    await link.sendSchema({
      fingerprint: RECORD_SCHEMA_FINGERPRINT,
      schema: JSON.stringify(RECORD_SCHEMA),
    });
    const body = encodeRecords(records(0, 5).map(encodeRecord), 0);
    const chunk = {
      chunkId: 1,
      stream: "telemetry",
      schema: RECORD_SCHEMA_FINGERPRINT,
      createdAt: Date.now(),
      firstSeq: 0,
      lastSeq: 4,
      records: 5,
      compression: "none" as const,
      body,
    };
    await link.send(chunk);
    await link.send(chunk);
    const later = encodeRecords(records(5, 3).map(encodeRecord), 5);
    await link.send({
      ...chunk,
      chunkId: 2,
      firstSeq: 5,
      lastSeq: 7,
      records: 3,
      compression: "deflate",
      body: deflateSync(later),
    });
    const res = await fetch(`${master.url}/v1/status`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const status = (await res.json()) as StatusSnapshot;
    assert.equal(status.nodes[0]?.name, "gw-1");
    assert.equal(status.nodes[0]?.online, true);
    assert.deepEqual(status.telemetry.nodes["gw-1"]?.records, 8);
    const answer = await new MasterClient(master.url, token).readings({
      node: "gw-1",
      tags: ["rotor_rpm"],
      from: 0,
      to: Date.now() + 60_000,
    });
    const series = answer.series[0];
    assert.equal(answer.series.length, 1);
    assert.equal(series?.unit, "rpm");
    assert.deepEqual(
      series?.points.map(([, v]) => v),
      [10, 11, 12, 13, 14, 15, 16, 17],
    );
    assert.ok(status.telemetry.recordsPerSecond > 0);
  });

  it("counts chunks awaiting their schema and names each chunk that did not decode", async () => {
    const base = {
      stream: "telemetry",
      createdAt: Date.now(),
      firstSeq: 0,
      lastSeq: 0,
      records: 1,
      compression: "none" as const,
    };
    await link.send({
      ...base,
      chunkId: 10,
      schema: RECORD_SCHEMA_FINGERPRINT,
      body: encodeRecords([Buffer.from([0xff, 0xff, 0xff])], 0),
    });
    await link.send({
      ...base,
      chunkId: 11,
      schema: Buffer.alloc(32, 7),
      body: encodeRecords([encodeRecord(records(0, 1)[0] as TelemetryRecord)], 0),
    });
    const res = await fetch(`${master.url}/v1/status`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const status = (await res.json()) as StatusSnapshot;
    const counts = status.readingCounts.find((c) => c.node === "gw-1");
    assert.equal(counts?.decodeFailed, 1);
    assert.equal(counts?.awaitingSchema, 1);
    assert.equal(status.decodeFailures[0]?.chunkId, 10);
    assert.match(status.decodeFailures[0]?.error ?? "", /record 0/);
  });

  it("shows each node's buffer backlog from its last report, and forgets a destroyed instance's", async () => {
    const now = Date.now();
    await master.store.supply("gw-1", "file:///x.yaml", now);
    for (const name of ["c1", "c2"])
      await master.store.requestInstance(
        { name, software: "file:///x.yaml", parameters: {}, node: "gw-1", cores: 0 },
        placeInstance,
        now,
      );
    const running = (name: string, records: number, oldestAgeMs: number) => ({
      name,
      status: "running" as const,
      promises: [],
      connection: {},
      buffer: { records, bytes: records * 100, oldestAgeMs, peakRecords: records * 10, at: now },
    });
    await link.report({ instances: [running("c1", 40, 12_000), running("c2", 2, 500)], usage: [] });
    let status = await snapshot();
    assert.deepEqual(
      { ...status.telemetry.backlog["gw-1"], instances: undefined },
      {
        records: 42,
        bytes: 4200,
        oldestAgeMs: 12_000,
        peakRecords: 420,
        at: now,
        instances: undefined,
      },
    );
    assert.equal(status.telemetry.backlog["gw-1"]?.instances.c2?.records, 2);
    await master.store.setRequestedState("c2", "destroyed", now);
    await link.report({
      instances: [{ name: "c2", status: "destroyed", promises: [], connection: {} }],
      usage: [],
    });
    status = await snapshot();
    assert.deepEqual(Object.keys(status.telemetry.backlog["gw-1"]?.instances ?? {}), ["c1"]);
    assert.equal(status.telemetry.backlog["gw-1"]?.records, 40);
  });

  it("streams a fresh snapshot every second as server-sent events", async () => {
    const controller = new AbortController();
    const res = await fetch(`${master.url}/v1/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    const started = Date.now();
    while ((text.match(/\n\n/g) ?? []).length < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    controller.abort();
    const events = text.split("\n\n").filter(Boolean);
    assert.ok(events.length >= 2);
    const first = JSON.parse(events[0]?.split("data: ")[1] ?? "") as StatusSnapshot;
    assert.equal(first.nodes[0]?.name, "gw-1");
    assert.ok(Date.now() - started >= 900, "the second snapshot comes a second later");
  });
});
