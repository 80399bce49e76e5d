import { createHmac, diffieHellman, hkdfSync, timingSafeEqual } from "node:crypto";
import { x25519PublicKey, x25519SecretKey } from "./keys.js";

/**
 * Binds every node message to the node key it names. CURVE (with ZAP) proves that the
 * connection belongs to *some* admitted node, but zeromq.js does not expose which key a
 * ROUTER message came in on (libzmq's `User-Id` message property); without this, one admitted node could claim
 * another's identity. Each message carries an HMAC-SHA256 under a key only the node
 * (its secret key) and the master (its secret key) can derive: X25519 between them,
 * stretched with HKDF. The master never needs, nor sees, the node's secret key.
 *
 * The master's pushes (`wake`) carry one too, under the same key but over a label first:
 * a node request never starts with the label's bytes (a request is a CBOR map; the label
 * would read as a text string), so a node's own message sent back to it, or to the
 * master as its own, never authenticates in the other direction.
 */
export const AUTHENTICATOR_BYTES = 32;
const SALT = Buffer.from("outpost-protocol-v1");
const PUSH_LABEL = Buffer.from("outpost master push\0");

export function deriveLinkKey(
  ownSecretKey: string,
  peerPublicKey: string,
  keys: { node: string; master: string },
): Buffer {
  const shared = diffieHellman({
    privateKey: x25519SecretKey(ownSecretKey),
    publicKey: x25519PublicKey(peerPublicKey),
  });
  return Buffer.from(hkdfSync("sha256", shared, SALT, `${keys.node}|${keys.master}`, 32));
}

export function authenticate(linkKey: Buffer, body: Uint8Array): Buffer {
  return createHmac("sha256", linkKey).update(body).digest();
}

export function verifyAuthenticator(linkKey: Buffer, body: Uint8Array, mac: Uint8Array): boolean {
  return mac.length === AUTHENTICATOR_BYTES && timingSafeEqual(authenticate(linkKey, body), mac);
}

/** The authenticator of a master push: over the push label, then the message. */
export function authenticatePush(linkKey: Buffer, body: Uint8Array): Buffer {
  return createHmac("sha256", linkKey).update(PUSH_LABEL).update(body).digest();
}

export function verifyPushAuthenticator(
  linkKey: Buffer,
  body: Uint8Array,
  mac: Uint8Array,
): boolean {
  return (
    mac.length === AUTHENTICATOR_BYTES && timingSafeEqual(authenticatePush(linkKey, body), mac)
  );
}
