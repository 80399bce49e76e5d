import { strict as assert } from "node:assert";
import { instanceKey, planInstances } from "../../../agent/index.js";

describe("converge plan", () => {
  const k = instanceKey("sw1", 1, { port: "7000" });

  it("keeps an unchanged running instance: a converged node does nothing", () => {
    assert.deepEqual(
      planInstances([{ name: "a", state: "started", key: k }], [{ name: "a", key: k }]),
      [{ kind: "keep", name: "a" }],
    );
  });

  it("starts a new instance and replaces one whose software, partition or parameters changed", () => {
    const changed = instanceKey("sw1", 1, { port: "7001" });
    assert.deepEqual(
      planInstances(
        [
          { name: "new", state: "started", key: k },
          { name: "old", state: "started", key: changed },
        ],
        [{ name: "old", key: k }],
      ),
      [
        { kind: "start", name: "new", replace: false },
        { kind: "start", name: "old", replace: true },
      ],
    );
  });

  it("waits for software without blocking the other instances", () => {
    assert.deepEqual(
      planInstances(
        [
          { name: "a", state: "started", key: undefined },
          { name: "b", state: "started", key: k },
        ],
        [],
      ),
      [
        { kind: "wait", name: "a" },
        { kind: "start", name: "b", replace: false },
      ],
    );
  });

  it("stops, destroys, and destroys what runs here but the master no longer lists", () => {
    assert.deepEqual(
      planInstances(
        [
          { name: "s", state: "stopped", key: k },
          { name: "s2", state: "stopped", key: k },
          { name: "d", state: "destroyed", key: k },
        ],
        [
          { name: "s", key: k },
          { name: "gone", key: k },
        ],
      ),
      [
        { kind: "stop", name: "s" },
        { kind: "keep", name: "s2" },
        { kind: "destroy", name: "d" },
        { kind: "destroy", name: "gone" },
      ],
    );
  });

  it("keys parameters independently of their order", () => {
    assert.equal(instanceKey("x", 2, { a: "1", b: "2" }), instanceKey("x", 2, { b: "2", a: "1" }));
    assert.notEqual(instanceKey("x", 2, { a: "1" }), instanceKey("x", 3, { a: "1" }));
  });

  it("changes the key when a requested instance's connection parameters change", () => {
    const base = instanceKey("x", 2, { a: "1" });
    const withDb = instanceKey("x", 2, { a: "1" }, { db: { url: "tcp://a:1" } });
    assert.notEqual(withDb, base);
    assert.notEqual(withDb, instanceKey("x", 2, { a: "1" }, { db: { url: "tcp://a:2" } }));
    assert.equal(base, instanceKey("x", 2, { a: "1" }, {}));
  });
});
