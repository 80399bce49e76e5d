import { strict as assert } from "node:assert";
import { Dealer } from "zeromq";
import {
  authenticate,
  DEFAULT_LIMITS,
  decodeFrame,
  deriveLinkKey,
  encodeMessage,
} from "../../protocol/index.js";
import { chunk, hello, MasterHarness } from "../master/master-harness.js";
import { acceptable, FRAMES, fuzzFrames, prng, rawTcpGarbage } from "./master-fuzz-frames.js";

describe("fault: master under fuzzed frames", function () {
  this.timeout(120_000);
  let h: MasterHarness;
  afterEach(async () => h?.close());

  it("survives thousands of random, truncated, garbage, oversized and unknown frames from an admitted peer, and raw TCP junk, while another node keeps working", async () => {
    h = await new MasterHarness().start();
    const fuzzer = await h.addNode("fuzzer");
    const good = await h.addNode("good");
    const goodLink = h.link(good, 10_000);
    await goodLink.hello(hello);

    const raw = new Dealer({
      curveServerKey: h.master.publicKey,
      curvePublicKey: fuzzer.publicKey,
      curveSecretKey: fuzzer.secretKey,
      linger: 0,
      sendHighWaterMark: 100_000,
    });
    raw.connect(h.master.endpoint);
    let replies = 0;
    let sawFinal = false;
    const acked = new Set<number>();
    const draining = (async () => {
      try {
        for await (const [reply] of raw) {
          replies++;
          const r = decodeFrame(reply ?? Buffer.alloc(0), 1 << 20) as Record<string, unknown>;
          if (r.type === "ack" && typeof r.chunkId === "number") acked.add(r.chunkId);
          if (r.id === 4242) sawFinal = true;
        }
      } catch {
        // closed
      }
    })();

    const frames = fuzzFrames(fuzzer, h.master.publicKey, prng(0x5eed));
    // What a correct master must accept: frames that are well-formed, valid and
    // authenticated (a flipped byte inside a chunk's body, re-signed, is still a chunk).
    const expectedChunks = new Set<number>();
    const linkKey = deriveLinkKey(fuzzer.secretKey, h.master.publicKey, {
      node: fuzzer.publicKey,
      master: h.master.publicKey,
    });
    // The well-behaved node exchanges all along the fuzz, not before or after it.
    let goodDone = 0;
    const goodTraffic = (async () => {
      for (let i = 0; i < 100; i++) {
        const ack = await goodLink.send(chunk(i));
        assert.equal(ack.duplicate, false);
        if (i % 10 === 0) assert.deepEqual((await goodLink.sync()).instances, []);
        goodDone++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    // Below CURVE: raw TCP peers sending garbage, truncated ZMTP greetings, or nothing.
    const rawTcp = rawTcpGarbage(h.master.endpoint, prng(0x7cb), 300);
    let sent = 0;
    for (const f of frames) {
      const accepted = acceptable(f, linkKey, fuzzer.publicKey);
      if (accepted?.type === "telemetry") expectedChunks.add(accepted.chunkId);
      await raw.send(f);
      sent++;
      if (sent % 200 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    // Over the frame limit: ZeroMQ drops that connection (and what was queued on it), so
    // it goes last, from a socket of its own; the good node must not notice.
    const big = new Dealer({
      curveServerKey: h.master.publicKey,
      curvePublicKey: fuzzer.publicKey,
      curveSecretKey: fuzzer.secretKey,
      linger: 0,
    });
    big.connect(h.master.endpoint);
    for (let i = 0; i < 3; i++)
      await big.send([Buffer.alloc(32), Buffer.alloc(DEFAULT_LIMITS.maxMessageBytes + 1)]);
    await goodTraffic;
    assert.equal(goodDone, 100);
    assert.equal(
      await rawTcp,
      300,
      "every raw TCP peer was dealt with (closed by the master or by us)",
    );
    big.close();

    // The master still answers everyone: the fuzzing peer's own well-formed request too.
    const body = encodeMessage({ v: 1, id: 4242, node: fuzzer.publicKey, type: "sync" });
    const key = deriveLinkKey(fuzzer.secretKey, h.master.publicKey, {
      node: fuzzer.publicKey,
      master: h.master.publicKey,
    });
    await raw.send([authenticate(key, body), body]);
    const deadline = Date.now() + 30_000;
    // Frames are queued in ZeroMQ when send() resolves; wait for the master's answers
    // before closing, or the tail of the queue would be discarded with the socket.
    while (!(sawFinal && acked.size >= expectedChunks.size) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(sawFinal, "the fuzzing peer's own valid request was answered");
    raw.close();
    await draining;

    const stored = await h.client.telemetry({ node: "good", limit: 1000 });
    assert.equal(stored.chunks.length, 100, "every chunk of the good node stored once");
    const fromFuzzer = await h.client.telemetry({ node: "fuzzer", limit: 100_000 });
    const storedIds = new Set(fromFuzzer.chunks.map((c) => c.chunkId));
    const missing = [...expectedChunks].filter((id) => !storedIds.has(id));
    const extra = [...storedIds].filter((id) => !expectedChunks.has(id));
    assert.deepEqual(
      { missing, extra },
      { missing: [], extra: [] },
      "exactly the valid, authenticated chunks were stored; garbage never became telemetry",
    );
    assert.ok(expectedChunks.size > 0, "some re-signed mutations were still valid chunks");
    assert.ok(replies > 0, "error replies went back to the fuzzer");

    const metrics = await h.master.metrics.registry.getSingleMetricAsString(
      "outpost_master_messages_rejected_total",
    );
    const rejected = [...metrics.matchAll(/reason="(\w+)"\} (\d+)/g)].map((m) => [
      m[1],
      Number(m[2]),
    ]);
    const total = rejected.reduce((n, [, c]) => n + Number(c), 0);
    assert.ok(total > FRAMES * 0.9, `most fuzz frames were rejected (${JSON.stringify(rejected)})`);
    for (const reason of ["decode", "invalid", "auth"]) {
      assert.ok(
        rejected.some(([r]) => r === reason),
        `some frames rejected as ${reason}`,
      );
    }
    assert.equal((await goodLink.hello(hello)).name, "good");
  });
});
