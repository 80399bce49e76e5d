import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { z85Decode, z85Encode } from "../../protocol/z85.js";

describe("z85", () => {
  it("encodes the RFC 32 test vector", () => {
    const bytes = Buffer.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
    assert.equal(z85Encode(bytes), "HelloWorld");
    assert.deepEqual(z85Decode("HelloWorld"), bytes);
  });

  it("round-trips random 32-byte keys", () => {
    for (let i = 0; i < 200; i++) {
      const key = randomBytes(32);
      assert.deepEqual(z85Decode(z85Encode(key)), key);
    }
  });

  it("rejects bad lengths, characters outside the alphabet and overflowing groups", () => {
    assert.throws(() => z85Decode("abcd"), { code: "E_PROTOCOL_KEY" });
    assert.throws(() => z85Decode("abc~d"), {
      code: "E_PROTOCOL_KEY",
      message: /'~' at position 3/,
    });
    assert.throws(() => z85Decode("#####"), { code: "E_PROTOCOL_KEY", message: /overflows/ });
    assert.throws(() => z85Encode(Buffer.alloc(3)), { code: "E_PROTOCOL_KEY" });
  });
});
