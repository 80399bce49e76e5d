import { strict as assert } from "node:assert";
import { Encoder } from "cbor-x";
import {
  EPOCH_SPAN,
  LOCAL_ID_SPAN,
  MAX_TELEMETRY_BODY,
  parseBacklogBody,
  parseChunkBody,
  parseLossBody,
  partitionIdOf,
  relayedId,
} from "../../../agent/index.js";
import { encodeRecords } from "../../../buffer/index.js";

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

const chunk = {
  chunkId: 7,
  stream: "telemetry",
  schema: Buffer.alloc(32, 1),
  createdAt: 1_700_000_000_000,
  firstSeq: 10,
  lastSeq: 11,
  records: 2,
  compression: "none",
  body: encodeRecords([Buffer.from("a"), Buffer.from("b")], 10),
};

const loss = {
  id: 3,
  stream: "telemetry",
  reason: "overflow",
  chunkId: 7,
  fromSeq: 0,
  toSeq: 9,
  records: 10,
  at: 1_700_000_000_000,
};

describe("local API telemetry bodies", () => {
  it("namespaces ids per partition and epoch: p * 2^45 + e * 2^34 + id, exact, and back", () => {
    assert.equal(LOCAL_ID_SPAN, 17_179_869_184);
    assert.equal(relayedId(1, 0, 0), 2 ** 45);
    assert.equal(relayedId(3, 2, 42), 3 * 2 ** 45 + 2 * 2 ** 34 + 42);
    const top = relayedId(255, EPOCH_SPAN - 1, LOCAL_ID_SPAN - 1);
    assert.ok(Number.isSafeInteger(top));
    assert.deepEqual(partitionIdOf(top), {
      partition: 255,
      epoch: EPOCH_SPAN - 1,
      id: LOCAL_ID_SPAN - 1,
    });
    assert.deepEqual(partitionIdOf(relayedId(2, 1, 5)), { partition: 2, epoch: 1, id: 5 });
    // A redeployed instance's buffer counts from 0 again: a new id, not a duplicate.
    assert.notEqual(relayedId(1, 0, 0), relayedId(1, 1, 0));
    assert.equal(relayedId(1, EPOCH_SPAN, 7), relayedId(1, 0, 7), "epochs wrap");
  });

  it("takes a CBOR OutboundChunk, byte strings as Buffers", () => {
    const parsed = parseChunkBody(cbor.encode(chunk));
    assert.ok(typeof parsed !== "string", String(parsed));
    assert.deepEqual(parsed, chunk);
    assert.ok(Buffer.isBuffer(parsed.body) && Buffer.isBuffer(parsed.schema));
  });

  it("takes a CBOR LossEvent", () => {
    assert.deepEqual(parseLossBody(cbor.encode(loss)), loss);
  });

  it("refuses what is not a well-formed chunk, with the reason", () => {
    const bad = (value: unknown) => parseChunkBody(cbor.encode(value));
    assert.equal(parseChunkBody(Buffer.alloc(0)), "body is empty");
    assert.match(String(parseChunkBody(Buffer.from([0xff, 0x00]))), /^body is not CBOR \(/);
    assert.match(String(parseChunkBody(Buffer.from([0x01, 0x02]))), /^body is not CBOR \(/);
    assert.equal(bad([1, 2]), "body must be a CBOR map of OutboundChunk fields");
    assert.equal(bad("chunk"), "body must be a CBOR map of OutboundChunk fields");
    assert.equal(
      bad(new Map<unknown, unknown>([["__proto__", {}]])),
      "body must be a CBOR map of OutboundChunk fields",
    );
    const { body: _body, ...noBody } = chunk;
    assert.equal(bad(noBody), "missing field 'body'");
    assert.equal(bad({ ...chunk, node: "x" }), "unknown field 'node'");
    assert.equal(
      bad({ ...chunk, chunkId: LOCAL_ID_SPAN }),
      "chunkId: must be below 2^34 (ids are namespaced per partition and epoch)",
    );
    assert.equal(bad({ ...chunk, chunkId: -1 }), "chunkId: must be >= 0");
    assert.equal(bad({ ...chunk, chunkId: 1.5 }), "chunkId: must be integer");
    assert.equal(bad({ ...chunk, body: "text" }), "body: must be a CBOR byte string");
    assert.equal(bad({ ...chunk, schema: Buffer.alloc(256) }), "schema: must be at most 255 bytes");
    assert.match(String(bad({ ...chunk, stream: "../etc" })), /^stream: must match pattern/);
    assert.match(String(bad({ ...chunk, compression: "zstd" })), /^compression: must be equal/);
    assert.equal(bad({ ...chunk, firstSeq: 12 }), "lastSeq 11 is below firstSeq 12");
    assert.equal(bad({ ...chunk, createdAt: new Date() }), "createdAt: must be integer");
    assert.equal(bad({ ...chunk, records: 2n ** 60n }), "records: must be integer");
    assert.equal(
      parseChunkBody(Buffer.alloc(MAX_TELEMETRY_BODY + 1)),
      `body larger than ${MAX_TELEMETRY_BODY} bytes`,
    );
  });

  it("refuses what is not a well-formed loss event", () => {
    const bad = (value: unknown) => parseLossBody(cbor.encode(value));
    assert.equal(
      bad({ ...loss, reason: "lost" }),
      "reason: must be equal to one of the allowed values",
    );
    assert.equal(
      bad({ ...loss, id: LOCAL_ID_SPAN }),
      "id: must be below 2^34 (ids are namespaced per partition and epoch)",
    );
    assert.equal(
      bad({ ...loss, chunkId: LOCAL_ID_SPAN + 1 }),
      "chunkId: must be below 2^34 (ids are namespaced per partition and epoch)",
    );
    assert.equal(bad({ ...loss, fromSeq: 10 }), "toSeq 9 is below fromSeq 10");
    assert.equal(bad({ ...chunk }), "missing field 'id'");
  });

  it("takes a forwarder's backlog of non-negative integers, naming what is wrong", () => {
    const good = { records: 12, bytes: 3400, oldestAgeMs: 900 };
    assert.deepEqual(parseBacklogBody(cbor.encode(good)), good);
    assert.match(String(parseBacklogBody(cbor.encode({ ...good, records: -1 }))), /records/);
    assert.match(String(parseBacklogBody(cbor.encode({ ...good, bytes: 1.5 }))), /bytes/);
    assert.match(String(parseBacklogBody(cbor.encode({ records: 1, bytes: 1 }))), /oldestAgeMs/);
    assert.match(String(parseBacklogBody(cbor.encode({ ...good, extra: 1 }))), /extra/);
    assert.equal(
      parseBacklogBody(cbor.encode([1])),
      "body must be a CBOR map of buffer backlog fields",
    );
  });
});
