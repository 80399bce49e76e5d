import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { curveKeyPair } from "zeromq";
import { KeyFormatError } from "./errors.js";
import { z85Decode, z85Encode } from "./z85.js";

/** A CURVE key pair in Z85 text, as ZeroMQ takes it: 40 characters each (32 bytes). */
export interface KeyPair {
  publicKey: string;
  secretKey: string;
}

export const KEY_TEXT_LENGTH = 40;

/** A fresh key pair from libsodium (through libzmq). The secret never leaves this process. */
export function generateKeyPair(): KeyPair {
  const pair = curveKeyPair();
  return { publicKey: pair.publicKey, secretKey: pair.secretKey };
}

/** The 32 raw bytes of a Z85 key; `what` names the key in the error ("master public key"). */
export function decodeKey(text: string, what: string): Buffer {
  if (typeof text !== "string" || text.length !== KEY_TEXT_LENGTH) {
    throw new KeyFormatError(
      `${what} must be ${KEY_TEXT_LENGTH} characters of Z85, got ${typeof text === "string" ? `${text.length} characters` : typeof text}`,
    );
  }
  try {
    return z85Decode(text);
  } catch (err) {
    throw new KeyFormatError(`${what}: ${(err as Error).message}`);
  }
}

export function isKeyText(text: unknown): text is string {
  if (typeof text !== "string" || text.length !== KEY_TEXT_LENGTH) return false;
  try {
    z85Decode(text);
    return true;
  } catch {
    return false;
  }
}

export function encodeKey(raw: Uint8Array): string {
  return z85Encode(raw);
}

// CURVE keys are X25519 keys; Node's crypto takes raw ones wrapped in PKCS#8 / SPKI.
const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_X25519 = Buffer.from("302a300506032b656e032100", "hex");

export function x25519SecretKey(secretKey: string): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_X25519, decodeKey(secretKey, "secret key")]),
    format: "der",
    type: "pkcs8",
  });
}

export function x25519PublicKey(publicKey: string): KeyObject {
  return createPublicKey({
    key: Buffer.concat([SPKI_X25519, decodeKey(publicKey, "public key")]),
    format: "der",
    type: "spki",
  });
}

/** The public half of a secret key, to check that a stored pair belongs together. */
export function publicKeyOf(secretKey: string): string {
  const spki = createPublicKey(x25519SecretKey(secretKey)).export({ format: "der", type: "spki" });
  return z85Encode(spki.subarray(SPKI_X25519.length));
}
