import { strict as assert } from "node:assert";
import { type AddressInfo, createServer } from "node:net";
import { pino } from "pino";
import { PromiseChecker } from "../../../agent/index.js";
import { until } from "../../helpers/until.js";

const logger = pino({ level: "silent" });

describe("promise checker", () => {
  it("is not ready before the first check, ready when all pass, red when one fails", async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const checker = new PromiseChecker(
      [
        {
          name: "up",
          probe: { kind: "tcp", host: "127.0.0.1", port },
          intervalMs: 20,
          timeoutMs: 500,
        },
        { name: "root", probe: { kind: "file", path: "/" }, intervalMs: 20, timeoutMs: 500 },
      ],
      { logger },
    );
    assert.equal(checker.ready(), false);
    assert.equal(checker.results()[0]?.message, "not checked yet");
    checker.start();
    try {
      await until(() => checker.ready(), 2000, "ready");
      await new Promise((r) => server.close(r));
      await until(() => !checker.ready(), 2000, "red after the server closed");
      const [up, root] = checker.results();
      assert.match(up?.message ?? "", /ECONNREFUSED/);
      assert.equal(root?.ok, true);
    } finally {
      checker.stop();
    }
  });

  it("self-repairs after N failures in a row, at most maxRepairs times, and reports it", async () => {
    let repairs = 0;
    const checker = new PromiseChecker(
      [
        {
          name: "never",
          probe: { kind: "file", path: "/nonexistent/x" },
          intervalMs: 5,
          timeoutMs: 100,
        },
      ],
      {
        logger,
        selfRepair: {
          afterFailures: 3,
          maxRepairs: 2,
          repair: async () => {
            repairs++;
          },
        },
      },
    );
    checker.start();
    try {
      await until(() => repairs === 2, 2000, "two repairs");
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(repairs, 2, "bounded");
      assert.equal(checker.repairs, 2);
    } finally {
      checker.stop();
    }
  });
});
