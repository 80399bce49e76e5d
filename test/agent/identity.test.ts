import { strict as assert } from "node:assert";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateIdentity } from "../../agent/index.js";
import { isKeyText, publicKeyOf } from "../../protocol/index.js";

describe("agent identity", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-agent-id-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("creates a CURVE key pair on first start with the secret in a 0600 file", () => {
    const pair = loadOrCreateIdentity(join(dir, "data"));
    assert.ok(isKeyText(pair.publicKey));
    const keyFile = join(dir, "data", "node.key");
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(readFileSync(keyFile, "utf8").trim(), pair.secretKey);
    assert.equal(publicKeyOf(pair.secretKey), pair.publicKey);
  });

  it("keeps the same key pair across starts", () => {
    const first = loadOrCreateIdentity(dir);
    assert.deepEqual(loadOrCreateIdentity(dir), first);
  });

  it("refuses a key file others can read, naming the file and the fix", () => {
    loadOrCreateIdentity(dir);
    chmodSync(join(dir, "node.key"), 0o644);
    assert.throws(() => loadOrCreateIdentity(dir), {
      code: "E_AGENT_DATA_DIR",
      message: /node\.key: is readable by group or others \(mode 0644\); run chmod 600/,
    });
  });

  it("refuses a key file that holds no Z85 key", () => {
    writeFileSync(join(dir, "node.key"), "not a key\n", { mode: 0o600 });
    assert.throws(() => loadOrCreateIdentity(dir), { code: "E_AGENT_DATA_DIR", message: /Z85/ });
  });
});
