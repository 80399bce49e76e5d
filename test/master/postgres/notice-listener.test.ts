import { strict as assert } from "node:assert";
import { join } from "node:path";
import postgres from "postgres";
import { type FaultProxy, startFaultProxy } from "../../../common/fault-proxy.js";
import { NodeChangeFeed } from "../../../master/node-changes.js";
import { NODE_CHANGED_CHANNEL } from "../../../master/postgres/node-notices.js";
import { NodeNoticeListener } from "../../../master/postgres/notice-listener.js";
import type { NodeChange } from "../../../master/store.js";
import { type PostgresServer, startPostgres, TEST_ROLE } from "../../helpers/postgres-server.js";
import { eventually } from "../../helpers/until.js";

// A describe of its own: root-level hooks would run for the whole suite.
describe("master/postgres/notice-listener (one server for this file)", () => {
  let server: PostgresServer;
  let name: string;
  let proxy: FaultProxy;
  let pool: postgres.Sql;
  before(async function () {
    this.timeout(60_000);
    server = await startPostgres();
    ({ name } = await server.createDatabase());
    // TCP in front of the server's unix socket, so the listening connection can be cut
    // without a FIN: a NAT that forgot it, a peer that vanished.
    proxy = await startFaultProxy({ path: join(server.socketDir, `.s.PGSQL.${server.port}`) });
    pool = postgres(server.url(name), { password: server.password, onnotice: () => {} });
  });
  after(async () => {
    await pool?.end({ timeout: 1 });
    await proxy?.close();
    await server?.stop();
  });

  function throughProxy(): postgres.Sql {
    return postgres(`postgres://${TEST_ROLE}@127.0.0.1:${proxy.port}/${name}`, {
      password: server.password,
      onnotice: () => {},
    });
  }

  /** A listener through the proxy, probing every 200 ms, and the nodes it told of. */
  async function listening(): Promise<{ listener: NodeNoticeListener; heard: (string | null)[] }> {
    const feed = new NodeChangeFeed();
    const heard: (string | null)[] = [];
    feed.subscribe((c: NodeChange) => heard.push(c.node));
    const listener = new NodeNoticeListener(throughProxy, pool, feed, {
      everyMs: 200,
      timeoutMs: 2_000,
    });
    await listener.start();
    return { listener, heard };
  }

  async function notify(payload: unknown): Promise<void> {
    await pool`SELECT pg_notify(${NODE_CHANGED_CHANNEL}, ${JSON.stringify(payload)})`;
  }

  it("replaces a LISTEN connection that fell silent without a FIN, and says notices were missed", async function () {
    this.timeout(30_000);
    const { listener, heard } = await listening();
    try {
      await notify({ node: "gw-1", at: Date.now() });
      await eventually("gw-1's notice", 5_000, () => (heard.includes("gw-1") ? true : undefined));
      // Probes come and are heard; another master's probe is no change either.
      await notify({ probe: "another-master" });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal(listener.replaced, 0, "a live connection was replaced");
      assert.deepEqual([...heard], ["gw-1"]);

      proxy.stallExisting();
      await notify({ node: "gw-2", at: Date.now() });
      await eventually("the silent connection replaced", 10_000, () =>
        listener.replaced === 1 && heard.includes(null) ? true : undefined,
      );
      assert.equal(proxy.stats.connections, 2);
      await notify({ node: "gw-3", at: Date.now() });
      await eventually("gw-3's notice", 5_000, () => (heard.includes("gw-3") ? true : undefined));
      // gw-2's notice went to the dead connection: `null` tells the master to wake every node.
      assert.deepEqual(heard, ["gw-1", null, "gw-3"]);
    } finally {
      await listener.close();
    }
  });

  it("keeps listening across a database restart: a probe that cannot be sent replaces nothing", async function () {
    this.timeout(60_000);
    const { listener, heard } = await listening();
    try {
      const before = proxy.stats.connections;
      await server.halt();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal(listener.replaced, 0, "replaced while no probe could be sent");
      await server.resume();
      // postgres.js listened again by itself after the server closed the connection.
      await eventually("listening again", 20_000, () => (heard.includes(null) ? true : undefined));
      await eventually("gw-4's notice", 20_000, async () => {
        await notify({ node: "gw-4", at: Date.now() }).catch(() => undefined);
        return heard.includes("gw-4") ? true : undefined;
      });
      assert.ok(proxy.stats.connections > before);
    } finally {
      await listener.close();
    }
  });
});
