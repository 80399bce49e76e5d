import { strict as assert } from "node:assert";
import {
  decodeKey,
  deriveLinkKey,
  generateKeyPair,
  isKeyText,
  publicKeyOf,
} from "../../protocol/index.js";

describe("keys", () => {
  it("generates Z85 key pairs whose public half derives from the secret", () => {
    const pair = generateKeyPair();
    assert.equal(pair.publicKey.length, 40);
    assert.equal(publicKeyOf(pair.secretKey), pair.publicKey);
    assert.ok(isKeyText(pair.publicKey));
  });

  it("rejects keys that are not 40 characters of Z85, naming the key", () => {
    assert.throws(() => decodeKey("short", "master public key"), {
      code: "E_PROTOCOL_KEY",
      message: /master public key must be 40 characters of Z85, got 5 characters/,
    });
    assert.equal(isKeyText("~".repeat(40)), false);
  });

  it("derives the same link key on the node and on the master, and a different one for another node", () => {
    const master = generateKeyPair();
    const node = generateKeyPair();
    const other = generateKeyPair();
    const ids = { node: node.publicKey, master: master.publicKey };
    const onNode = deriveLinkKey(node.secretKey, master.publicKey, ids);
    const onMaster = deriveLinkKey(master.secretKey, node.publicKey, ids);
    assert.deepEqual(onNode, onMaster);
    const forOther = deriveLinkKey(master.secretKey, other.publicKey, {
      node: other.publicKey,
      master: master.publicKey,
    });
    assert.notDeepEqual(forOther, onMaster);
  });
});
