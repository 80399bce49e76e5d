import { readFileSync } from "node:fs";
import { Context } from "zeromq";
import { type KeyPair, NodeLink } from "../../protocol/index.js";

/**
 * A child of bench/scale: holds a share of a large fleet's links to one master, as idle
 * nodes do. Every link says `sync` once (in waves, so the master's handshakes are not all
 * at once), then again every heartbeat period from a random offset (a fleet polling at
 * that setting), with ZMTP heartbeats at the same period. Prints `held N` once every
 * link synced, `round OK FAILED` after each period, and closes everything on SIGTERM.
 * A child per share because each DEALER costs about 3 descriptors here and the hard
 * RLIMIT_NOFILE is per process.
 *
 *   node held-links.js '{"endpoint","publicKey","keys":FILE,"heartbeatSeconds"}'
 */
interface HoldSpec {
  endpoint: string;
  publicKey: string;
  /** A JSON file of the key pairs this child holds links for. */
  keys: string;
  heartbeatSeconds: number;
}

const WAVE = 250;

const spec = JSON.parse(process.argv[2] ?? "{}") as HoldSpec;
const keys = JSON.parse(readFileSync(spec.keys, "utf8")) as KeyPair[];
const periodMs = spec.heartbeatSeconds * 1000;
const context = new Context({ maxSockets: keys.length * 2 + 16 });
const links = keys.map(
  (keyPair) =>
    new NodeLink({
      endpoint: spec.endpoint,
      masterPublicKey: spec.publicKey,
      keyPair,
      context,
      observe: false,
      timeoutMs: 120_000,
      heartbeat: { intervalMs: periodMs, timeoutMs: periodMs * 3 },
    }),
);

for (let i = 0; i < links.length; i += WAVE)
  await Promise.all(links.slice(i, i + WAVE).map((l) => l.sync()));
process.stdout.write(`held ${links.length}\n`);

let ok = 0;
let failed = 0;
const timers = links.map((link) => {
  const poll = (): void => {
    link.sync().then(
      () => {
        ok++;
      },
      () => {
        failed++;
      },
    );
  };
  const first = setTimeout(() => {
    poll();
    timers.push(setInterval(poll, periodMs));
  }, Math.random() * periodMs);
  return first;
});
const rounds = setInterval(() => {
  process.stdout.write(`round ${ok} ${failed}\n`);
  ok = 0;
  failed = 0;
}, periodMs);

process.once("SIGTERM", () => {
  clearInterval(rounds);
  for (const t of timers) clearTimeout(t);
  void Promise.all(links.map((l) => l.close())).then(() => process.exit(0));
});
