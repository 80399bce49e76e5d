import { strict as assert } from "node:assert";
import { createServer } from "node:net";
import { Context, Dealer } from "zeromq";
import { startFaultProxy } from "../../common/index.js";
import { generateKeyPair, NodeLink } from "../../protocol/index.js";
import { until } from "../helpers/until.js";
import { type Harness, sampleChunk, sampleHello, startHarness } from "./link-harness.js";

describe("NodeLink ↔ ProtocolServer over CURVE", () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it("a known node says hello, syncs and sends a chunk, each answered by its own reply", async () => {
    h = await startHarness();
    const node = generateKeyPair();
    h.known.add(node.publicKey);
    const link = h.link(node);
    const [welcome, desired, ack] = await Promise.all([
      link.hello(sampleHello),
      link.sync(),
      link.send(sampleChunk(7)),
    ]);
    assert.equal(welcome.name, `node-${node.publicKey.slice(0, 4)}`);
    assert.deepEqual(desired.instances, []);
    assert.deepEqual(ack, { chunkId: 7, duplicate: false });
    const chunk = h.handled.find((r) => r.type === "telemetry");
    assert.ok(chunk && chunk.type === "telemetry");
    assert.equal(chunk.node, node.publicKey);
    assert.deepEqual(Buffer.from(chunk.body), sampleChunk(7).body);
  });

  it("a node with an unknown key cannot exchange a single message", async () => {
    h = await startHarness();
    const stranger = generateKeyPair();
    const link = h.link(stranger, { timeoutMs: 3_000 });
    await assert.rejects(link.hello(sampleHello), (err: Error & { code?: string }) => {
      assert.equal(err.code, "E_PROTOCOL_TIMEOUT");
      assert.match(err.message, /master refused this node's key/);
      return true;
    });
    assert.equal(h.handled.length, 0, "the handler never saw a message");
    assert.equal(h.rejected.length, 0, "not even a rejected one");
    assert.ok(h.denied.includes(stranger.publicKey), "ZAP denied the key");
  });

  it("a node refused at first dials again and gets in once its key is known", async () => {
    h = await startHarness();
    const node = generateKeyPair();
    const link = h.link(node, { timeoutMs: 1_000, redialMs: 200 });
    await assert.rejects(link.sync(), { code: "E_PROTOCOL_TIMEOUT" });
    h.known.add(node.publicKey);
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        assert.ok(await link.sync());
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
    }
    assert.ok(h.denied.includes(node.publicKey), "it was refused before");
  });

  it("a node presenting a known node's public key with the wrong secret key fails the handshake", async () => {
    h = await startHarness();
    const real = generateKeyPair();
    h.known.add(real.publicKey);
    const impostor = { publicKey: real.publicKey, secretKey: generateKeyPair().secretKey };
    const link = h.link(impostor, { timeoutMs: 1_500 });
    await assert.rejects(link.hello(sampleHello), { code: "E_PROTOCOL_TIMEOUT" });
    assert.equal(h.handled.length, 0);
    // The real holder of the key still gets through.
    assert.ok(await h.link(real).hello(sampleHello));
  });

  it("an admitted node cannot speak for another node: the authenticator gives it away", async () => {
    h = await startHarness();
    const victim = generateKeyPair();
    const attacker = generateKeyPair();
    h.known.add(victim.publicKey);
    h.known.add(attacker.publicKey);
    // The attacker holds its own admitted key but names the victim as the sender; it can
    // only authenticate with a key derived from its own secret.
    const link = h.link(attacker);
    const forged = h.link({ ...attacker, publicKey: victim.publicKey }, { timeoutMs: 1_500 });
    await assert.rejects(forged.sync(), { code: "E_PROTOCOL_TIMEOUT" }, "CURVE refuses the mix");
    assert.ok(await link.sync(), "its own identity works");

    // A raw DEALER, admitted with the attacker's key, sends a victim-named message.
    const { encodeMessage, authenticate, deriveLinkKey } = await import("../../protocol/index.js");
    const raw = new Dealer({
      curveServerKey: h.master.publicKey,
      curvePublicKey: attacker.publicKey,
      curveSecretKey: attacker.secretKey,
      receiveTimeout: 3_000,
      linger: 0,
    });
    raw.connect(h.server.endpoint);
    const body = encodeMessage({ v: 1, id: 9, node: victim.publicKey, type: "sync" });
    const key = deriveLinkKey(attacker.secretKey, h.master.publicKey, {
      node: victim.publicKey,
      master: h.master.publicKey,
    });
    await raw.send([authenticate(key, body), body]);
    const [reply] = await raw.receive();
    raw.close();
    const { decodeFrame } = await import("../../protocol/index.js");
    const decoded = decodeFrame(reply ?? Buffer.alloc(0), 1 << 20) as Record<string, unknown>;
    assert.equal(decoded.type, "error");
    assert.equal(decoded.code, "E_PROTOCOL_AUTH");
    assert.equal(decoded.id, 9);
    assert.ok(
      h.handled.every((r) => r.node !== victim.publicKey),
      "nothing reached the handler as the victim",
    );
  });

  it("a node that pins another master key never talks to this master", async () => {
    h = await startHarness();
    const node = generateKeyPair();
    h.known.add(node.publicKey);
    const link = h.link(node, { masterPublicKey: generateKeyPair().publicKey, timeoutMs: 1_500 });
    await assert.rejects(link.sync(), { code: "E_PROTOCOL_TIMEOUT" });
    assert.equal(h.handled.length, 0);
  });

  it("a handler error with a code reaches the node as a RemoteError with that code", async () => {
    h = await startHarness(async () => {
      throw Object.assign(new Error("node 'x' is not registered"), {
        code: "E_MASTER_UNKNOWN_NODE",
      });
    });
    const node = generateKeyPair();
    h.known.add(node.publicKey);
    await assert.rejects(
      h.link(node).sync(),
      (err: Error & { code?: string; remoteCode?: string }) => {
        assert.equal(err.code, "E_PROTOCOL_REMOTE");
        assert.equal(err.remoteCode, "E_MASTER_UNKNOWN_NODE");
        assert.match(err.message, /not registered/);
        return true;
      },
    );
  });

  it("an aborted send rejects with the abort reason and a late ack is ignored", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    h = await startHarness(async (request) => {
      await gate;
      return { type: "ack", chunkId: request.type === "telemetry" ? request.chunkId : 0 };
    });
    const node = generateKeyPair();
    h.known.add(node.publicKey);
    const link = h.link(node);
    const controller = new AbortController();
    const sending = link.send(sampleChunk(1), controller.signal);
    setTimeout(() => controller.abort(new Error("ack timeout")), 100);
    await assert.rejects(sending, /ack timeout/);
    release();
    assert.deepEqual(await link.send(sampleChunk(2)), { chunkId: 2, duplicate: false });
  });

  it("close releases every socket of the link: 100 links in turn fit a 64-socket context", async () => {
    // Each link holds a DEALER and two monitor sockets; a close that leaks them runs the
    // context out of sockets after about 21 links.
    const context = new Context({ maxSockets: 64 });
    const master = generateKeyPair();
    const node = generateKeyPair();
    for (let i = 0; i < 100; i++) {
      const link = new NodeLink({
        endpoint: "tcp://127.0.0.1:1",
        masterPublicKey: master.publicKey,
        keyPair: node,
        context,
      });
      // Let it start dialing (and its monitor report that) before it is closed.
      await new Promise((r) => setTimeout(r, 1));
      await link.close();
    }
  });

  it("close rejects pending requests with E_PROTOCOL_CLOSED", async () => {
    h = await startHarness(() => new Promise(() => {}));
    const node = generateKeyPair();
    h.known.add(node.publicKey);
    const link = h.link(node);
    const pending = link.sync();
    await new Promise((r) => setTimeout(r, 100));
    await link.close();
    await assert.rejects(pending, { code: "E_PROTOCOL_CLOSED" });
    await assert.rejects(link.sync(), { code: "E_PROTOCOL_CLOSED" });
  });

  it("finds a link that went silent by ZMTP heartbeats and reconnects: the next request gets through", async () => {
    const heartbeat = { intervalMs: 200, timeoutMs: 1_000 };
    h = await startHarness(undefined, { heartbeat });
    const node = generateKeyPair();
    h.known.add(node.publicKey);
    const port = Number(/:(\d+)$/.exec(h.server.endpoint)?.[1]);
    const proxy = await startFaultProxy({ host: "127.0.0.1", port });
    try {
      const link = h.link(node, { endpoint: `tcp://127.0.0.1:${proxy.port}`, heartbeat });
      assert.ok(await link.sync());
      assert.equal(proxy.stats.connections, 1);
      // TCP stays up, nothing moves: only the missing PONGs tell the node the link is dead.
      proxy.stallExisting();
      await until(() => proxy.stats.connections >= 2, 10_000, "the node never replaced the link");
      assert.ok(await link.sync(), "a request after the reconnect is answered");
    } finally {
      await proxy.close();
    }
  });

  it("never sends, once the master is back, the requests given up while it was unreachable", async () => {
    // A port that was just free: the master is down when the node starts.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const address = probe.address();
    const port = typeof address === "object" && address ? address.port : 0;
    await new Promise((resolve) => probe.close(resolve));
    const master = generateKeyPair();
    const node = generateKeyPair();
    const link = new NodeLink({
      endpoint: `tcp://127.0.0.1:${port}`,
      masterPublicKey: master.publicKey,
      keyPair: node,
      timeoutMs: 2_500,
    });
    try {
      const outcomes = await Promise.allSettled(
        [1, 2, 3, 4, 5].map((id) => link.send(sampleChunk(id))),
      );
      for (const o of outcomes) {
        assert.equal(o.status, "rejected");
        assert.equal((o.reason as { code?: string }).code, "E_PROTOCOL_TIMEOUT");
      }
      h = await startHarness(undefined, {
        endpoint: `tcp://127.0.0.1:${port}`,
        keyPair: master,
        authorize: () => true,
      });
      assert.deepEqual(await link.send(sampleChunk(99)), { chunkId: 99, duplicate: false });
      const stale = h.handled.filter((r) => r.type === "telemetry" && r.chunkId !== 99);
      // The socket was already waiting to send the first one when its caller gave up.
      assert.ok(stale.length <= 1, `${stale.length} abandoned requests went out late`);
    } finally {
      await link.close();
    }
  });
});
