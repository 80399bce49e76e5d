import { strict as assert } from "node:assert";
import { type InstanceFacts, instanceReport } from "../../../agent/index.js";
import type { DesiredInstance } from "../../../protocol/index.js";

const d: DesiredInstance = {
  name: "e1",
  software: "/r/software.yaml",
  parameters: {},
  partition: 0,
  cores: [],
  state: "started",
};
const facts: InstanceFacts = { destroying: false, error: undefined, softwareInstalled: true };
const running = {
  status: "running" as const,
  ready: true,
  promises: [{ name: "listening", ok: true, checkedAt: 5 }],
  publish: { url: "tcp://127.0.1.1:7000" },
};

describe("instance report", () => {
  it("publishes connection parameters only once the instance is ready", () => {
    assert.deepEqual(instanceReport(d, { ...facts, running }, 9).connection, running.publish);
    const notReady = {
      ...running,
      ready: false,
      promises: [{ name: "listening", ok: false, checkedAt: 5 }],
    };
    const r = instanceReport(d, { ...facts, running: notReady }, 9);
    assert.deepEqual(r.connection, {});
    assert.equal(r.promises[0]?.ok, false);
  });

  it("carries a deployment error as status failed with a failed deploy promise", () => {
    assert.deepEqual(instanceReport(d, { ...facts, error: "sha256 mismatch for x" }, 9), {
      name: "e1",
      status: "failed",
      promises: [{ name: "deploy", ok: false, message: "sha256 mismatch for x", checkedAt: 9 }],
      connection: {},
    });
  });

  it("says installing until the software is there, starting until the instance runs", () => {
    assert.equal(instanceReport(d, { ...facts, softwareInstalled: false }, 9).status, "installing");
    assert.equal(instanceReport(d, facts, 9).status, "starting");
  });

  it("reports destroyed and stopped instances without promises", () => {
    assert.equal(instanceReport({ ...d, state: "destroyed" }, facts, 9).status, "destroyed");
    assert.equal(instanceReport(d, { ...facts, destroying: true, running }, 9).status, "destroyed");
    assert.equal(instanceReport({ ...d, state: "stopped" }, facts, 9).status, "stopped");
  });

  it("carries the release's secret keys in every report once known, so the master can mask them", () => {
    const secrets = { software: d.software, parameters: ["password"], connection: ["dsn"] };
    const known = { ...facts, secrets };
    for (const r of [
      instanceReport(d, known, 9),
      instanceReport(d, { ...known, running }, 9),
      instanceReport(d, { ...known, error: "x" }, 9),
      instanceReport({ ...d, state: "stopped" }, known, 9),
    ])
      assert.deepEqual(r.secrets, secrets, r.status);
    assert.equal("secrets" in instanceReport(d, { ...facts, running }, 9), false, "not known");
  });

  it("carries the buffer backlog the instance's forwarder last told, only while it runs", () => {
    const backlog = { records: 40, bytes: 4000, oldestAgeMs: 1200, peakRecords: 300, at: 7 };
    const r = instanceReport(d, { ...facts, running: { ...running, backlog } }, 9);
    assert.deepEqual(r.buffer, backlog);
    assert.equal(instanceReport(d, { ...facts, running }, 9).buffer, undefined);
    assert.equal("buffer" in instanceReport({ ...d, state: "stopped" }, facts, 9), false);
  });

  it("carries the limits that hold for it whatever its status; not once destroyed", () => {
    const limits = {
      memoryBytes: 1024,
      pids: 512,
      openFiles: 4096,
      diskBytes: 2048,
      disk: "quota" as const,
    };
    for (const r of [
      instanceReport(d, { ...facts, limits }, 9),
      instanceReport(d, { ...facts, limits, running }, 9),
      instanceReport(d, { ...facts, limits, error: "x" }, 9),
      instanceReport({ ...d, state: "stopped" }, { ...facts, limits }, 9),
    ])
      assert.deepEqual(r.limits, limits, r.status);
    assert.equal(
      "limits" in instanceReport({ ...d, state: "destroyed" }, { ...facts, limits }, 9),
      false,
    );
  });

  it("an instance stopped for its partition's disk use is failed with a failed disk promise", () => {
    const diskExceeded =
      "E_AGENT_DISK_QUOTA: partition 1 holds 40 bytes on disk, over its limit of 32: …";
    assert.deepEqual(instanceReport(d, { ...facts, diskExceeded }, 9), {
      name: "e1",
      status: "failed",
      promises: [{ name: "disk", ok: false, message: diskExceeded, checkedAt: 9 }],
      connection: {},
    });
    assert.deepEqual(
      instanceReport(d, { ...facts, diskExceeded, error: "boom" }, 9).promises.map((p) => p.name),
      ["deploy", "disk"],
    );
    assert.equal(
      instanceReport({ ...d, state: "stopped" }, { ...facts, diskExceeded }, 9).status,
      "stopped",
    );
  });
});
