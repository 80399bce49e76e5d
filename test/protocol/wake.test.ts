import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { Dealer, Router } from "zeromq";
import {
  AUTHENTICATOR_BYTES,
  authenticate,
  authenticatePush,
  decodeFrame,
  deriveLinkKey,
  encodeMessage,
  type KeyPair,
  NodeLink,
  validateMasterReply,
} from "../../protocol/index.js";
import { until } from "../helpers/until.js";
import { generateKeyPair, type Harness, sampleChunk, startHarness } from "./link-harness.js";

/** A link that counts the wakes it is handed. */
function wakeable(h: Harness, keys: KeyPair, extra: { logger?: ReturnType<typeof pino> } = {}) {
  const counter = { wakes: 0 };
  const link = h.link(keys, { onWake: () => counter.wakes++, ...extra });
  return { link, counter };
}

const settle = () => new Promise((r) => setTimeout(r, 300));

describe("wake: the master's push to a node", function () {
  this.timeout(30_000);
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it("reaches the node it is for only, on the link that syncs", async () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    h.known.add(a.publicKey);
    h.known.add(b.publicKey);
    const nodeA = wakeable(h, a);
    const nodeB = wakeable(h, b);
    // A node's telemetry may come on a link of its own: that link never draws the wake.
    const telemetryA = wakeable(h, a);
    assert.equal(h.server.wake(a.publicKey), false, "never heard: not held");
    await telemetryA.link.send(sampleChunk(1));
    assert.equal(h.server.wake(a.publicKey), false, "telemetry alone holds no control link");
    await nodeA.link.sync();
    await nodeB.link.sync();
    await telemetryA.link.send(sampleChunk(2));
    assert.deepEqual(h.server.heldKeys().sort(), [a.publicKey, b.publicKey].sort());

    assert.equal(h.server.wake(a.publicKey), true);
    await until(() => nodeA.counter.wakes === 1, 5_000, "node A woken");
    await settle();
    assert.deepEqual(
      [nodeA.counter.wakes, nodeB.counter.wakes, telemetryA.counter.wakes],
      [1, 0, 0],
    );

    assert.equal(h.server.wake(b.publicKey), true);
    await until(() => nodeB.counter.wakes === 1, 5_000, "node B woken");
    assert.equal(h.server.wake(generateKeyPair().publicKey), false, "an unknown key");
    assert.deepEqual(h.server.heldKeys(0), [], "none heard within the last 0 ms");
  });

  it("is not sent to a version 1 node, which is answered in version 1 and finds changes by polling", async () => {
    const old = generateKeyPair();
    h.known.add(old.publicKey);
    const dealer = new Dealer({
      curveServerKey: h.master.publicKey,
      curvePublicKey: old.publicKey,
      curveSecretKey: old.secretKey,
      linger: 0,
    });
    try {
      dealer.connect(h.server.endpoint);
      const linkKey = deriveLinkKey(old.secretKey, h.master.publicKey, {
        node: old.publicKey,
        master: h.master.publicKey,
      });
      const body = encodeMessage({ v: 1, id: 7, node: old.publicKey, type: "sync" });
      await dealer.send([authenticate(linkKey, body), body]);
      const [frame] = await dealer.receive();
      const reply = validateMasterReply(decodeFrame(frame as Buffer, 1 << 20));
      assert.deepEqual([reply.v, reply.id, reply.type], [1, 7, "desired"]);
      assert.equal(h.server.wake(old.publicKey), false);
    } finally {
      dealer.close();
    }
  });
});

describe("wake: what a node takes as one", function () {
  this.timeout(30_000);
  const master = generateKeyPair();
  const node = generateKeyPair();
  const other = generateKeyPair();
  let router: Router;
  let link: NodeLink;
  let wakes = 0;
  const logged: { msg: string; suppressed?: number }[] = [];
  let routingId: Buffer;
  /** Requests the fake master saw; it answers each sync with an empty desired state. */
  let syncs = 0;

  /** A fake master: holds the master's keys, answers syncs, and sends what a test says. */
  async function serve(): Promise<void> {
    for await (const [id, , body] of router) {
      routingId = id as Buffer;
      const request = decodeFrame(body as Buffer, 1 << 20) as { id: number; v: number };
      syncs++;
      const reply = { v: request.v, id: request.id, type: "desired", software: [], instances: [] };
      await router.send([routingId, encodeMessage(reply as never)]);
    }
  }

  const linkKeyOf = (nodeKey: string) =>
    deriveLinkKey(master.secretKey, nodeKey, { node: nodeKey, master: master.publicKey });
  const wake = (nodeKey: string) => encodeMessage({ v: 2, type: "wake", node: nodeKey } as never);

  before(async () => {
    router = new Router({
      curveServer: true,
      curvePublicKey: master.publicKey,
      curveSecretKey: master.secretKey,
      linger: 0,
    });
    await router.bind("tcp://127.0.0.1:*");
    void serve().catch(() => {});
    link = new NodeLink({
      endpoint: router.lastEndpoint as string,
      masterPublicKey: master.publicKey,
      keyPair: node,
      timeoutMs: 3_000,
      onWake: () => wakes++,
      logger: pino({ level: "warn" }, { write: (line: string) => logged.push(JSON.parse(line)) }),
    });
    await link.sync();
  });

  after(async () => {
    await link.close();
    router.close();
  });

  it("drops forged, unauthenticated or misaddressed wakes with one throttled warning, and goes on", async () => {
    const mine = wake(node.publicKey);
    const forged: [string, Buffer[]][] = [
      ["no authenticator (as a reply)", [mine]],
      ["a random authenticator", [randomBytes(AUTHENTICATOR_BYTES), mine]],
      [
        "an authenticator of the wrong length",
        [authenticatePush(linkKeyOf(node.publicKey), mine).subarray(1), mine],
      ],
      [
        "a request's authenticator (the other direction)",
        [authenticate(linkKeyOf(node.publicKey), mine), mine],
      ],
      [
        "another node's wake, under its key",
        [
          authenticatePush(linkKeyOf(other.publicKey), wake(other.publicKey)),
          wake(other.publicKey),
        ],
      ],
      [
        "another node's wake, under this node's key",
        [authenticatePush(linkKeyOf(node.publicKey), wake(other.publicKey)), wake(other.publicKey)],
      ],
      [
        "a version 1 wake",
        (() => {
          const body = encodeMessage({ v: 1, type: "wake", node: node.publicKey } as never);
          return [authenticatePush(linkKeyOf(node.publicKey), body), body];
        })(),
      ],
      [
        "garbage, authenticated",
        (() => {
          const body = randomBytes(40);
          return [authenticatePush(linkKeyOf(node.publicKey), body), body];
        })(),
      ],
      ["three frames", [randomBytes(32), mine, mine]],
    ];
    for (const [, frames] of forged) await router.send([routingId, ...frames]);
    await settle();
    assert.equal(wakes, 0, "none of them woke the node");
    const warned = logged.filter((l) => l.msg === "link.push_rejected");
    assert.equal(warned.length, 1, "push rejections are throttled to one warning");
    assert.ok(logged.filter((l) => l.msg === "link.reply_rejected").length <= 1);

    const syncsBefore = syncs;
    await link.sync();
    assert.equal(syncs, syncsBefore + 1, "the link still works");

    await router.send([routingId, authenticatePush(linkKeyOf(node.publicKey), mine), mine]);
    await until(() => wakes === 1, 5_000, "the master's own wake");
  });
});
