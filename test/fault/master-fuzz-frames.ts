import { connect } from "node:net";
import { Encoder } from "cbor-x";
import {
  AUTHENTICATOR_BYTES,
  authenticate,
  DEFAULT_LIMITS,
  decodeFrame,
  deriveLinkKey,
  encodeMessage,
  type KeyPair,
  type NodeRequest,
  validateNodeRequest,
} from "../../protocol/index.js";
import { chunk } from "../master/master-harness.js";

/** Fuzz material for master-fuzz.test.ts: deterministic for a given seed. */

export const FRAMES = 6_000;

export /** xorshift32: the same "random" frames on every run, so a failure can be replayed. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

/** `count` TCP connections to the ROUTER, each sending what no ZMTP peer would, then closing. */
export async function rawTcpGarbage(
  endpoint: string,
  rand: () => number,
  count: number,
): Promise<number> {
  const port = Number(/:(\d+)$/.exec(endpoint)?.[1]);
  // A valid ZMTP 3 greeting asking for CURVE, cut short or followed by junk.
  const greeting = Buffer.concat([
    Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 1]),
    Buffer.from("CURVE".padEnd(20, "\0")),
    Buffer.alloc(32),
  ]);
  let done = 0;
  for (let i = 0; i < count; i++) {
    const junk = Buffer.alloc(Math.floor(rand() * 512));
    for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rand() * 256);
    const payload =
      i % 3 === 0
        ? junk
        : i % 3 === 1
          ? greeting.subarray(0, Math.floor(rand() * greeting.length))
          : Buffer.concat([greeting, junk]);
    await new Promise<void>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write(payload);
        setTimeout(() => socket.destroy(), 5);
      });
      socket.on("error", () => socket.destroy());
      socket.on("close", () => {
        done++;
        resolve();
      });
    });
  }
  return done;
}

export function acceptable(
  frames: Buffer[],
  linkKey: Buffer,
  node: string,
): NodeRequest | undefined {
  const [mac, body] = frames;
  if (frames.length !== 2 || !mac || !body || mac.length !== AUTHENTICATOR_BYTES) return undefined;
  if (!authenticate(linkKey, body).equals(mac)) return undefined;
  try {
    const request = validateNodeRequest(decodeFrame(body, DEFAULT_LIMITS.maxMessageBytes));
    // A mutation inside `node` names another key, which this authenticator cannot prove.
    return request.node === node ? request : undefined;
  } catch {
    return undefined;
  }
}

export function* fuzzFrames(
  keys: KeyPair,
  masterKey: string,
  rand: () => number,
): Generator<Buffer[]> {
  const linkKey = deriveLinkKey(keys.secretKey, masterKey, {
    node: keys.publicKey,
    master: masterKey,
  });
  const enc = new Encoder({ useRecords: false, mapsAsObjects: true });
  const bytes = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
    return b;
  };
  const valid = (id: number) =>
    encodeMessage({ v: 1, id, node: keys.publicKey, type: "telemetry", ...chunk(1_000 + id) });
  const signed = (body: Buffer): Buffer[] => [authenticate(linkKey, body), body];
  const anyValue = (depth: number): unknown => {
    const r = rand();
    if (depth > 3 || r < 0.3)
      return [1, -5, 2 ** 40, 0.5, "x", true, null, undefined][Math.floor(rand() * 8)];
    if (r < 0.5) return bytes(Math.floor(rand() * 64));
    if (r < 0.7) return Array.from({ length: Math.floor(rand() * 5) }, () => anyValue(depth + 1));
    const o: Record<string, unknown> = {};
    for (const k of ["v", "id", "type", "node", "body", "chunkId", "__proto__", "constructor"]) {
      // defineProperty: assigning `__proto__` would change the object's prototype instead.
      if (rand() < 0.5)
        Object.defineProperty(o, k, { value: anyValue(depth + 1), enumerable: true });
    }
    return o;
  };
  for (let i = 0; i < FRAMES; i++) {
    const kind = i % 10;
    const id = i + 1;
    switch (kind) {
      case 0: // random bytes, random frame count
        yield Array.from({ length: 1 + Math.floor(rand() * 4) }, () =>
          bytes(Math.floor(rand() * 200)),
        );
        break;
      case 1: {
        // a valid message, truncated, correctly authenticated
        const v = valid(id);
        yield signed(v.subarray(0, Math.floor(rand() * v.length)));
        break;
      }
      case 2: // random CBOR values, signed
        yield signed(enc.encode(anyValue(0)));
        break;
      case 3: // unknown type / version / fields, signed
        yield signed(
          encodeMessage({
            v: rand() < 0.5 ? 1 : 7,
            id,
            node: keys.publicKey,
            type: ["reboot", "hello", "sync"][i % 3],
            extra: 1,
          } as never),
        );
        break;
      case 4: // valid message, wrong authenticator
        yield [bytes(AUTHENTICATOR_BYTES), valid(id)];
        break;
      case 5: // valid message, authenticator of the wrong length
        yield [bytes(Math.floor(rand() * 40)), valid(id)];
        break;
      case 6: // valid message with a byte flipped somewhere
        {
          const v = Buffer.from(valid(id));
          const at = Math.floor(rand() * v.length);
          v[at] = (v[at] ?? 0) ^ (1 + Math.floor(rand() * 255));
          yield signed(v);
          break;
        }
      case 7: // bare CBOR heads with absurd lengths
        yield signed(
          Buffer.concat([Buffer.from([[0x5b, 0x7b, 0x9b, 0xbb][i % 4] ?? 0x5b]), bytes(8)]),
        );
        break;
      case 8: // only the authenticator, or an empty message
        yield rand() < 0.5
          ? [bytes(AUTHENTICATOR_BYTES)]
          : [bytes(AUTHENTICATOR_BYTES), Buffer.alloc(0)];
        break;
      default:
        yield signed(bytes(1 + Math.floor(rand() * 300)));
    }
  }
}
