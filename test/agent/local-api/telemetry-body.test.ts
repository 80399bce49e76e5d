import { strict as assert } from "node:assert";
import { Ajv } from "ajv";
import {
  backlogOfQuery,
  chunkOfQuery,
  chunkQuery,
  chunkQuerySchema,
  EPOCH_SPAN,
  LOCAL_ID_SPAN,
  lossBodySchema,
  partitionIdOf,
  relayedId,
} from "../../../agent/index.js";
import { encodeRecords } from "../../../buffer/index.js";

const chunk = {
  chunkId: 7,
  stream: "telemetry",
  schema: Buffer.alloc(32, 1),
  createdAt: 1_700_000_000_000,
  firstSeq: 10,
  lastSeq: 11,
  records: 2,
  compression: "none" as const,
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

// As the local API's framework checks them: query values coerced, bodies as they are.
const queryAjv = new Ajv({ strict: true, coerceTypes: true });
const bodyAjv = new Ajv({ strict: true });
const checkQuery = queryAjv.compile(chunkQuerySchema);
const checkLoss = bodyAjv.compile(lossBodySchema);

/** The query as the server reads it: a plain object of strings, checked (and coerced). */
function received(query: URLSearchParams): {
  ok: boolean;
  value: Record<string, unknown>;
  error?: string;
} {
  const value: Record<string, unknown> = Object.fromEntries(query);
  const ok = checkQuery(value);
  const e = checkQuery.errors?.[0];
  return { ok, value, ...(ok ? {} : { error: `${e?.instancePath} ${e?.message}` }) };
}

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

  it("carries a chunk as its query and its body as bytes, and back unchanged", () => {
    const query = chunkQuery(chunk, { records: 40, bytes: 4000, oldestAgeMs: 1200 });
    assert.equal(query.get("schema"), "01".repeat(32));
    const r = received(query);
    assert.ok(r.ok, r.error);
    const back = chunkOfQuery(r.value as never, chunk.body);
    assert.deepEqual(back, chunk);
    assert.equal(back.body, chunk.body, "the body is passed through, not copied or decoded");
    assert.deepEqual(backlogOfQuery(r.value), { records: 40, bytes: 4000, oldestAgeMs: 1200 });
    const without = received(chunkQuery(chunk));
    assert.ok(without.ok, without.error);
    assert.equal(backlogOfQuery(without.value), undefined);
  });

  it("refuses a chunk query that is not a well-formed chunk, naming the field", () => {
    const bad = (change: Record<string, string | undefined>) => {
      const query = chunkQuery(chunk);
      for (const [k, v] of Object.entries(change)) {
        if (v === undefined) query.delete(k);
        else query.set(k, v);
      }
      return received(query).error;
    };
    assert.equal(bad({ stream: undefined }), " must have required property 'stream'");
    assert.equal(bad({ node: "x" }), " must NOT have additional properties");
    assert.equal(bad({ chunkId: String(LOCAL_ID_SPAN) }), "/chunkId must be <= 17179869183");
    assert.equal(bad({ chunkId: "-1" }), "/chunkId must be >= 0");
    assert.equal(bad({ chunkId: "1.5" }), "/chunkId must be integer");
    assert.match(String(bad({ schema: "00".repeat(256) })), /^\/schema must match pattern/);
    assert.match(String(bad({ schema: "zz" })), /^\/schema must match pattern/);
    assert.match(String(bad({ stream: "../etc" })), /^\/stream must match pattern/);
    assert.match(String(bad({ compression: "zstd" })), /^\/compression must be equal/);
    assert.equal(bad({ records: String(2 ** 60) }), "/records must be <= 9007199254740991");
    assert.equal(
      bad({ backlogRecords: "1" }),
      " must have properties backlogBytes, backlogAgeMs when property backlogRecords is present",
    );
  });

  it("takes a loss event as it is, refusing what is not one", () => {
    assert.ok(checkLoss(loss));
    const bad = (value: unknown) => (checkLoss(value) ? undefined : checkLoss.errors?.[0]);
    assert.equal(bad({ ...loss, reason: "lost" })?.keyword, "enum");
    assert.equal(bad({ ...loss, id: LOCAL_ID_SPAN })?.instancePath, "/id");
    assert.equal(bad({ ...loss, chunkId: LOCAL_ID_SPAN + 1 })?.instancePath, "/chunkId");
    assert.equal(bad({ ...loss, id: "3" })?.message, "must be integer");
    assert.equal(bad({ ...chunk })?.keyword, "required");
  });
});
