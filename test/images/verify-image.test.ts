import { strict as assert } from "node:assert";
import { generateKeyPairSync } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runOutpost } from "../helpers/run-outpost.js";
import { makeFixture } from "./fixture.js";

describe("outpost image verify", function () {
  this.timeout(60_000);
  let work: string;
  let image: string;
  const verify = (file: string, key = join(work, "k.pub"), extra: string[] = []) =>
    runOutpost(["image", "verify", file, "--key", key, ...extra]);
  /** A copy of the image and its bmap and manifest under a new name, for tampering. */
  const copyImage = (name: string) => {
    const out = join(work, name);
    for (const s of ["", ".bmap", ".manifest.json"]) copyFileSync(`${image}${s}`, `${out}${s}`);
    return out;
  };

  before(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-image-verify-"));
    const fixture = makeFixture(work);
    const keygen = runOutpost(["image", "keygen", "--out", join(work, "k")]);
    assert.equal(keygen.status, 0, keygen.stderr);
    image = join(work, "good.img");
    const r = runOutpost([
      "image",
      "build",
      "--plain",
      "--board",
      fixture.board,
      "--rootfs",
      fixture.rootfs,
      "--out",
      image,
      "--sign",
      join(work, "k.key"),
    ]);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("accepts the image as built and prints every partition's sha256 (--json)", () => {
    const r = verify(image, undefined, ["--json"]);
    assert.equal(r.status, 0, r.stderr);
    const manifest = JSON.parse(r.stdout) as { board: string; partitions: { label: string }[] };
    assert.equal(manifest.board, "tiny");
    assert.deepEqual(
      manifest.partitions.map((p) => p.label),
      ["boot", "rootfs-a", "rootfs-b", "data"],
    );
  });

  it("fails a tampered image, naming the partition whose sha256 changed", () => {
    const bad = copyImage("tampered.img");
    const { manifest } = JSON.parse(readFileSync(`${bad}.manifest.json`, "utf8"));
    const rootfsA = manifest.partitions[1] as { label: string; offset: number };
    const fd = openSync(bad, "r+");
    writeSync(fd, Buffer.from("X"), 0, 1, rootfsA.offset + 1024 + 100);
    closeSync(fd);
    const r = verify(bad);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^outpost: rootfs-a: sha256 is [0-9a-f]{64}, expected [0-9a-f]{64} \[E_IMAGE_HASH\]\n$/,
    );
  });

  it("fails a tampered manifest: its signature no longer verifies", () => {
    const bad = copyImage("tampered-manifest.img");
    const signed = JSON.parse(readFileSync(`${bad}.manifest.json`, "utf8"));
    signed.manifest.partitions[1].sha256 = "0".repeat(64);
    writeFileSync(`${bad}.manifest.json`, JSON.stringify(signed));
    const r = verify(bad);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^outpost: .*tampered-manifest\.img\.manifest\.json: signature does not verify/,
    );
  });

  it("fails a tampered bmap, which the manifest's sha256 covers", () => {
    const bad = copyImage("tampered-bmap.img");
    writeFileSync(`${bad}.bmap`, `${readFileSync(`${bad}.bmap`, "utf8")}\n`);
    const r = verify(bad);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^outpost: bmap: sha256 is/);
  });

  it("fails with another key, and for an unsigned manifest", () => {
    const other = join(work, "other.pub");
    const { publicKey } = generateKeyPairSync("ed25519");
    writeFileSync(other, publicKey.export({ type: "spki", format: "pem" }));
    const wrongKey = verify(image, other);
    assert.equal(wrongKey.status, 1);
    assert.match(wrongKey.stderr, /signature does not verify with .*other\.pub/);
    const unsigned = copyImage("unsigned.img");
    const signed = JSON.parse(readFileSync(`${unsigned}.manifest.json`, "utf8"));
    writeFileSync(`${unsigned}.manifest.json`, JSON.stringify({ ...signed, signature: null }));
    const r = verify(unsigned);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /the manifest is not signed/);
  });

  it("refuses a key that is not ed25519", () => {
    const rsa = join(work, "rsa.pub");
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    writeFileSync(rsa, publicKey.export({ type: "spki", format: "pem" }));
    const r = verify(image, rsa);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /an ed25519 key is required, not rsa/);
  });
});
