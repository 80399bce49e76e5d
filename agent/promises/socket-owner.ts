import { readFileSync } from "node:fs";
import { endianness } from "node:os";

/**
 * Who is at the other end of a TCP connection this process made on the box: the uid
 * of the socket that accepted it, from /proc/net/tcp{,6}. A socket's uid is its
 * creator's and an accepted socket takes its listener's, so a partition cannot pass a
 * listener of its own off as another partition's.
 */

export interface Endpoint {
  address: string;
  port: number;
}

interface SocketRow {
  local: Endpoint;
  remote: Endpoint;
  uid: number;
}

/** A word of /proc/net/tcp's address column (the kernel prints the u32 as loaded) as bytes. */
function wordBytes(hex: string): number[] {
  const b = Buffer.alloc(4);
  const word = Number.parseInt(hex, 16);
  if (endianness() === "LE") b.writeUInt32LE(word);
  else b.writeUInt32BE(word);
  return [...b];
}

/** `0301007F:1F40` → 127.0.1.3:8000; IPv6 v4-mapped addresses come out as IPv4. */
export function parseProcAddress(column: string): Endpoint {
  const [hex = "", portHex = ""] = column.split(":");
  const port = Number.parseInt(portHex, 16);
  const bytes: number[] = [];
  for (let i = 0; i < hex.length; i += 8) bytes.push(...wordBytes(hex.slice(i, i + 8)));
  if (bytes.length === 4) return { address: bytes.join("."), port };
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255;
  if (mapped) return { address: bytes.slice(12).join("."), port };
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return { address: groups.join(":"), port };
}

/** The rows of a /proc/net/tcp or tcp6 text (header skipped). */
export function parseProcNetTcp(text: string): SocketRow[] {
  const rows: SocketRow[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[1] === undefined || f[2] === undefined) continue;
    rows.push({ local: parseProcAddress(f[1]), remote: parseProcAddress(f[2]), uid: Number(f[7]) });
  }
  return rows;
}

function same(a: Endpoint, b: Endpoint): boolean {
  return a.port === b.port && a.address === b.address;
}

/**
 * The uid of the socket whose local end is `server` and remote end `client`, or
 * undefined when no such connection is on the box (another network namespace).
 */
export function acceptedSocketUid(
  server: Endpoint,
  client: Endpoint,
  read: (path: string) => string = (p) => readFileSync(p, "utf8"),
): number | undefined {
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = read(table);
    } catch {
      continue;
    }
    const row = parseProcNetTcp(text).find((r) => same(r.local, server) && same(r.remote, client));
    if (row) return row.uid;
  }
  return undefined;
}
