import { strict as assert } from "node:assert";
import { requestsReadiness } from "../../../agent/index.js";

describe("requested instances' readiness", () => {
  const specs = [
    { name: "db", software: "file:///kv.yaml", parameters: {} },
    { name: "cache", software: "file:///kv.yaml", parameters: {} },
  ];
  const ready = (instance: string, url: string) => ({
    instance,
    ready: true,
    status: "running" as const,
    connection: { url },
  });

  it("is ready with every child's connection parameters once all are ready", () => {
    assert.deepEqual(
      requestsReadiness(specs, { db: ready("fe.db", "a"), cache: ready("fe.cache", "b") }),
      { ready: true, connections: { db: { url: "a" }, cache: { url: "b" } } },
    );
  });

  it("names each child it waits for and why: not created, not ready, or refused", () => {
    const r = requestsReadiness(specs, {
      db: { instance: "fe.db", ready: false, status: "installing", connection: {} },
    });
    assert.deepEqual(r, {
      ready: false,
      waiting: "waiting for requested instances: 'fe.db' (installing), 'cache' (not created yet)",
    });
    const refused = requestsReadiness(specs.slice(0, 1), {
      db: { instance: "fe.db", ready: false, status: "failed", message: "no room", connection: {} },
    });
    assert.deepEqual(refused, {
      ready: false,
      waiting: "waiting for requested instances: 'fe.db' (no room)",
    });
  });
});
