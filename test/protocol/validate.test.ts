import { strict as assert } from "node:assert";
import { decodeFrame, encodeMessage, validateNodeRequest } from "../../protocol/index.js";
import { sampleChunk } from "./link-harness.js";

const node = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

function telemetry(overrides: Record<string, unknown> = {}) {
  return { v: 1, id: 3, node, type: "telemetry", ...sampleChunk(5), ...overrides };
}

describe("validateNodeRequest", () => {
  it("accepts a telemetry chunk after a CBOR round trip, body as bytes", () => {
    const decoded = decodeFrame(encodeMessage(telemetry() as never), 1 << 20);
    const request = validateNodeRequest(decoded);
    assert.equal(request.type, "telemetry");
    assert.ok(request.type === "telemetry" && request.body instanceof Uint8Array);
  });

  it("accepts both versions: 2, and 1 from nodes that take no push", () => {
    for (const v of [1, 2]) assert.equal(validateNodeRequest(telemetry({ v })).v, v);
  });

  const cases: [string, unknown, RegExp, number | undefined][] = [
    ["a CBOR array", [1, 2], /request is not a CBOR map/, undefined],
    [
      "a protocol version this side does not speak",
      { ...telemetry(), v: 3 },
      /unsupported protocol version 3; this side speaks 1 and 2/,
      3,
    ],
    [
      "an unknown type",
      { v: 1, id: 4, node, type: "reboot" },
      /unknown request type 'reboot'; known: hello, sync, report, telemetry, loss/,
      4,
    ],
    ["an unknown field", telemetry({ extra: 1 }), /telemetry request: unknown field 'extra'/, 3],
    [
      "a missing field",
      { v: 1, id: 5, node, type: "hello" },
      /hello request: missing field 'agentVersion'/,
      5,
    ],
    [
      "a body that is text, not bytes",
      telemetry({ body: "abc" }),
      /body: must be a CBOR byte string/,
      3,
    ],
    ["a negative sequence number", telemetry({ firstSeq: -1 }), /firstSeq: must be >= 0/, 3],
    [
      "a sequence range that runs backwards",
      telemetry({ firstSeq: 20, lastSeq: 19 }),
      /telemetry request: lastSeq 19 is below firstSeq 20/,
      3,
    ],
    [
      "a node key of the wrong length",
      telemetry({ node: "abc" }),
      /node: must NOT have fewer than 40 characters/,
      3,
    ],
    ["an id that is not an integer", telemetry({ id: 1.5 }), /id: must be integer/, undefined],
  ];
  for (const [what, value, message, id] of cases) {
    it(`rejects ${what} with E_PROTOCOL_INVALID, keeping the id when readable`, () => {
      assert.throws(
        () => validateNodeRequest(value),
        (err: Error & { code?: string; id?: number }) => {
          assert.equal(err.code, "E_PROTOCOL_INVALID");
          assert.match(err.message, message);
          assert.equal(err.id, id);
          return true;
        },
      );
    });
  }
});

describe("decodeFrame", () => {
  it("rejects a frame over the limit before parsing it", () => {
    assert.throws(() => decodeFrame(Buffer.alloc(101), 100), {
      code: "E_PROTOCOL_TOO_LARGE",
      message: /101 bytes exceeds the 100-byte limit/,
    });
  });

  it("rejects truncated CBOR, trailing bytes and empty frames with E_PROTOCOL_DECODE", () => {
    const frame = encodeMessage({ v: 1, id: 1, node, type: "sync" });
    assert.throws(() => decodeFrame(frame.subarray(0, frame.length - 3), 1 << 20), {
      code: "E_PROTOCOL_DECODE",
    });
    assert.throws(() => decodeFrame(Buffer.concat([frame, Buffer.from([0])]), 1 << 20), {
      code: "E_PROTOCOL_DECODE",
    });
    assert.throws(() => decodeFrame(Buffer.alloc(0), 1 << 20), { code: "E_PROTOCOL_DECODE" });
  });
});
