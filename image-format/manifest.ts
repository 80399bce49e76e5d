import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { readFileSync } from "node:fs";
import { ManifestFormatError, ManifestSignatureError } from "./errors.js";

export interface ImageManifest {
  format: "outpost-image/1";
  board: string;
  arch: string;
  /** SOURCE_DATE_EPOCH of the build. */
  created: number;
  image: { size: number; sha256: string };
  bmap: { sha256: string };
  diskGuid: string;
  partitions: {
    label: string;
    role: string;
    filesystem: string;
    partuuid: string;
    offset: number;
    size: number;
    sha256: string;
  }[];
}

/** What `FILE.manifest.json` holds: the manifest and an ed25519 signature over its JSON text. */
export interface SignedManifest {
  manifest: ImageManifest;
  signature: { algorithm: "ed25519"; keyId: string; value: string } | null;
}

function loadKey(file: string, kind: "private" | "public"): KeyObject {
  let key: KeyObject;
  try {
    const pem = readFileSync(file);
    key = kind === "private" ? createPrivateKey(pem) : createPublicKey(pem);
  } catch (err) {
    throw new ManifestSignatureError(
      `${file}: not a readable PEM ${kind} key (${(err as Error).message})`,
      file,
    );
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new ManifestSignatureError(
      `${file}: an ed25519 key is required, not ${key.asymmetricKeyType}`,
      file,
    );
  }
  return key;
}

/** First 16 hex digits of the sha256 of the public key (SPKI DER): which key signed. */
function keyId(publicKey: KeyObject): string {
  return createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("hex")
    .slice(0, 16);
}

/** Reads the PEM ed25519 private key that signs manifests; ManifestSignatureError if it is not one. */
export function loadSigningKey(keyFile: string): KeyObject {
  return loadKey(keyFile, "private");
}

/** The manifest as written, signed with `key` if given. */
export function signManifest(manifest: ImageManifest, key?: KeyObject): SignedManifest {
  if (!key) return { manifest, signature: null };
  const value = sign(null, Buffer.from(JSON.stringify(manifest)), key).toString("base64");
  return {
    manifest,
    signature: { algorithm: "ed25519", keyId: keyId(createPublicKey(key)), value },
  };
}

/**
 * Reads a manifest file and checks its signature against the PEM public key in
 * `keyFile`. Throws ManifestFormatError or ManifestSignatureError; returns the manifest
 * only when the signature verifies.
 */
export function readVerifiedManifest(file: string, keyFile: string): ImageManifest {
  const key = loadKey(keyFile, "public");
  let signed: SignedManifest;
  try {
    signed = JSON.parse(readFileSync(file, "utf8")) as SignedManifest;
  } catch (err) {
    throw new ManifestFormatError(`${file}: not a manifest (${(err as Error).message})`, file);
  }
  if (
    signed?.manifest?.format !== "outpost-image/1" ||
    !Array.isArray(signed.manifest.partitions)
  ) {
    throw new ManifestFormatError(`${file}: not an outpost-image/1 manifest`, file);
  }
  if (!signed.signature)
    throw new ManifestSignatureError(`${file}: the manifest is not signed`, file);
  const ok =
    signed.signature.algorithm === "ed25519" &&
    verify(
      null,
      Buffer.from(JSON.stringify(signed.manifest)),
      key,
      Buffer.from(String(signed.signature.value), "base64"),
    );
  if (!ok) {
    throw new ManifestSignatureError(
      `${file}: signature does not verify with ${keyFile} (key ${keyId(key)}, signed by ${signed.signature.keyId})`,
      file,
    );
  }
  return signed.manifest;
}
