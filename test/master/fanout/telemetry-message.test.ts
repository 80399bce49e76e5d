import { strict as assert } from "node:assert";
import {
  MAX_MESSAGE_BYTES,
  messageId,
  nameOfToken,
  nodeSubjects,
  readTelemetryMessage,
  type StoredChunk,
  subjectToken,
  telemetryMessages,
  telemetrySubject,
} from "../../../master/index.js";
import type { DecodedRecord } from "../../../master/readings/record-reader.js";
import { packArray, VALUE_KIND } from "../../../master/readings/value-kind.js";

const chunk: StoredChunk = {
  node: "gw.1",
  chunkId: 2 ** 45 + 7,
  stream: "line 2",
  schema: new Uint8Array([1]),
  createdAt: 1,
  firstSeq: 1,
  lastSeq: 9,
  records: 9,
  compression: "none",
  body: new Uint8Array(),
  receivedAt: 2,
};

function row(seq: number, kind: DecodedRecord["kind"], value: DecodedRecord["value"]) {
  return {
    device: "turbine-1",
    tag: `tag-${seq}`,
    ts: 1_700_000_000_000 + seq,
    seq,
    kind,
    value,
    quality: "good",
    status: null,
    unit: null,
    extra: null,
  } satisfies DecodedRecord;
}

describe("fan-out subjects", () => {
  it("escapes what NATS treats specially in a token, reversibly", () => {
    assert.equal(subjectToken("turbine.7"), "turbine%2E7");
    assert.equal(subjectToken("a*b>c d"), "a%2Ab%3Ec%20d");
    assert.equal(subjectToken("50%"), "50%25");
    assert.equal(subjectToken("gw-1_a"), "gw-1_a");
    assert.equal(telemetrySubject("gw.1", "line 2"), "outpost.telemetry.gw%2E1.line%202");
    assert.equal(nodeSubjects("gw.1"), "outpost.telemetry.gw%2E1.*");
    assert.equal(nodeSubjects(), "outpost.telemetry.>");
    for (const name of ["turbine.7", "a*b>c d", "50%", "é ✓\t\n", "%2E", "x".repeat(64)]) {
      const token = subjectToken(name);
      assert.match(token, /^[A-Za-z0-9_%-]+$/, name);
      assert.equal(nameOfToken(token), name);
    }
  });

  it("derives the message id from node and chunk id (and the part of a split chunk)", () => {
    assert.equal(messageId("gw-1", 42, 0, 1), "gw-1:42");
    assert.equal(messageId("gw-1", 42, 2, 3), "gw-1:42:2");
  });
});

describe("fan-out messages", () => {
  it("carries every value kind as the readings' text rule says, typed again on reading", () => {
    const rows = [
      row(1, VALUE_KIND.float64, Number.NaN),
      row(2, VALUE_KIND.int64, -(2n ** 63n)),
      row(3, VALUE_KIND.uint64, 2n ** 64n - 1n),
      row(4, VALUE_KIND.bool, true),
      row(5, VALUE_KIND.string, "ok ✓"),
      row(6, VALUE_KIND.float64Array, packArray(VALUE_KIND.float64Array, [1.5, -2])),
      row(7, VALUE_KIND.int64Array, packArray(VALUE_KIND.int64Array, [2n ** 62n])),
      { ...row(8, VALUE_KIND.null, null), quality: "comm_error", status: "BadTimeout" },
      { ...row(9, VALUE_KIND.float64, 20.5), unit: "rpm", extra: '{"serverTs":5}' },
    ];
    const [m, ...more] = telemetryMessages(chunk, rows);
    assert.equal(more.length, 0);
    assert.deepEqual(
      [m?.node, m?.stream, m?.chunkId, m?.part, m?.parts, m?.readings],
      ["gw.1", "line 2", 2 ** 45 + 7, 0, 1, 9],
    );
    const text = Buffer.from(m?.payload ?? []).toString("utf8");
    assert.match(text, /"value":"-9223372036854775808"/);
    assert.match(text, /"type":"uint64","value":"18446744073709551615"/);
    assert.match(text, /"value":"NaN"/);
    const { message, readings } = readTelemetryMessage(m?.payload ?? new Uint8Array());
    assert.deepEqual([message.v, message.node, message.chunkId], [1, "gw.1", 2 ** 45 + 7]);
    assert.deepEqual(
      readings.map((r) => r.value),
      [Number.NaN, -(2n ** 63n), 2n ** 64n - 1n, true, "ok ✓", [1.5, -2], [2n ** 62n], null, 20.5],
    );
    assert.deepEqual(readings[7], {
      ts: 1_700_000_000_008,
      device: "turbine-1",
      tag: "tag-8",
      quality: "comm_error",
      status: "BadTimeout",
      seq: 8,
      node: "gw.1",
      stream: "line 2",
      value: null,
    });
    assert.deepEqual([readings[8]?.unit, readings[8]?.extra], ["rpm", { serverTs: 5 }]);
  });

  it("splits a chunk whose readings exceed the bound into parts, in order, each within it", () => {
    const big = "x".repeat(1000);
    const rows = Array.from({ length: 1500 }, (_, i) => row(i + 1, VALUE_KIND.string, big));
    const messages = telemetryMessages(chunk, rows);
    assert.ok(messages.length >= 3, `${messages.length} parts`);
    const seqs: number[] = [];
    messages.forEach((m, i) => {
      assert.ok(m.payload.byteLength <= MAX_MESSAGE_BYTES, `part ${i}: ${m.payload.byteLength}`);
      assert.deepEqual([m.part, m.parts], [i, messages.length]);
      const { message, readings } = readTelemetryMessage(m.payload);
      assert.deepEqual(
        [message.part, message.parts, readings.length],
        [i, messages.length, m.readings],
      );
      seqs.push(...readings.map((r) => r.seq));
    });
    assert.deepEqual(
      seqs,
      rows.map((r) => r.seq),
    );
  });

  it("refuses a payload that is not a message of this encoding, saying why", () => {
    const ok = JSON.parse(
      Buffer.from(
        telemetryMessages(chunk, [row(1, VALUE_KIND.int64, 5n)])[0]?.payload ?? [],
      ).toString(),
    );
    const cases: [unknown, RegExp][] = [
      ["{", /not JSON/],
      [{ ...ok, v: 2 }, /\/v must be equal to constant/],
      [{ ...ok, readings: undefined }, /must have required property 'readings'/],
      [
        { ...ok, readings: [{ ...ok.readings[0], value: "five" }] },
        /readings\/0\/value is not of type int64/,
      ],
      [{ ...ok, readings: [{ ...ok.readings[0], type: "decimal" }] }, /\/readings\/0\/type/],
    ];
    for (const [payload, error] of cases) {
      const bytes = Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload));
      assert.throws(() => readTelemetryMessage(bytes), error);
    }
  });
});
