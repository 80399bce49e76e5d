/**
 * Names on the NATS side of the fan-out: the JetStream stream, its subjects and the
 * message ids JetStream dedupes by. Everything here is pure.
 */

/** The JetStream stream the master publishes readings to (made or updated at start). */
export const TELEMETRY_STREAM = "OUTPOST_TELEMETRY";

/** Every telemetry subject is `outpost.telemetry.<node>.<stream>`. */
export const SUBJECT_PREFIX = "outpost.telemetry";

/** The stream's subjects: every node and stream. */
export const STREAM_SUBJECTS = `${SUBJECT_PREFIX}.>`;

/**
 * A name as one subject token. NATS splits subjects at `.`, takes `*` and `>` as
 * wildcards and ends them at white space, and node names may hold a `.` and stream names
 * anything, so every byte of the name's UTF-8 outside `[A-Za-z0-9_-]` is written `%HH`
 * (upper-case hex; `%` itself is `%25`): `turbine.7` → `turbine%2E7`, `line 2` →
 * `line%202`. Reversible, and a token never holds a character NATS treats specially.
 */
export function subjectToken(name: string): string {
  let out = "";
  for (const byte of Buffer.from(name, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** `subjectToken` undone. */
export function nameOfToken(token: string): string {
  return Buffer.from(
    token.replace(/%([0-9A-F]{2})/g, (_, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    ),
    "latin1",
  ).toString("utf8");
}

/** The subject of a node's stream. */
export function telemetrySubject(node: string, stream: string): string {
  return `${SUBJECT_PREFIX}.${subjectToken(node)}.${subjectToken(stream)}`;
}

/** The subjects of one node's streams, or of every node's. */
export function nodeSubjects(node?: string): string {
  return node === undefined ? STREAM_SUBJECTS : `${SUBJECT_PREFIX}.${subjectToken(node)}.*`;
}

/**
 * The JetStream message id (`Nats-Msg-Id`) of a chunk's message: `NODE:CHUNK` for a
 * chunk sent in one message, `NODE:CHUNK:PART` for each part of one split in several
 * (see telemetry-message.ts). A chunk id is unique per node, so the id is unique in the
 * fleet, and the same on every resend of the message.
 */
export function messageId(node: string, chunkId: number, part: number, parts: number): string {
  return parts === 1 ? `${node}:${chunkId}` : `${node}:${chunkId}:${part}`;
}
