import { createHash } from "node:crypto";
import { readFile, realpath } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Cgroup } from "../../native/index.js";
import { ChecksumMismatchError, FetchError } from "../errors.js";
import { readFileAsUser } from "./read-as-user.js";

/** Limits one download so a wrong URL cannot fill the disk. */
const MAX_BYTES = 1 << 30;
/** A file read that takes longer is a FIFO or a hung filesystem. */
const FILE_READ_TIMEOUT_MS = 120_000;

/**
 * Who may read what, for `file:` URLs. Descriptors and build sources are read as
 * `reader` (an unprivileged account) when the agent runs as root, so the kernel refuses
 * whatever that account could not read itself; the path rules come first.
 */
export interface SourceAccess {
  /** Account `file:` URLs are read as; absent in laptop mode (the agent is unprivileged). */
  reader?: string;
  /** Directories whose files any release may fetch (`--file-root`). */
  fileRoots: readonly string[];
  /** Never read, whatever the other rules say: the agent's data directory. */
  forbidden: readonly string[];
  /** Where the reader runs. */
  cgroup?: Cgroup;
}

/**
 * A descriptor or source location as a URL: `https:`/`http:`/`file:` as given, a plain
 * path as a `file:` URL (relative paths against the agent's working directory).
 */
export function toUrl(location: string): URL {
  if (/^[a-z][a-z0-9+.-]*:/i.test(location) && !isAbsolute(location)) {
    try {
      return new URL(location);
    } catch {
      throw new FetchError(location, "not a valid URL");
    }
  }
  return pathToFileURL(resolve(location));
}

/** A source named in a descriptor, resolved against the descriptor's own URL. */
export function resolveSource(descriptorUrl: string, ref: string): URL {
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) return toUrl(ref);
  return new URL(ref, toUrl(descriptorUrl));
}

function isBelow(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

async function real(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return resolve(path);
  }
}

/**
 * The real path of a `file:` URL once the rules allow it: never below a `forbidden`
 * directory and, when `allowedUnder` is given, below one of those directories. Links
 * are resolved first, so a link cannot smuggle a path past the rules.
 */
async function allowedPath(
  url: URL,
  access: SourceAccess,
  allowedUnder: readonly string[] | undefined,
): Promise<string> {
  const given = fileURLToPath(url);
  let path: string;
  try {
    path = await realpath(given);
  } catch (err) {
    throw new FetchError(url.href, (err as NodeJS.ErrnoException).code ?? String(err));
  }
  for (const dir of access.forbidden) {
    const forbidden = await real(dir);
    if (isBelow(path, forbidden))
      throw new FetchError(
        url.href,
        `refused: '${path}' is inside the agent's data directory ${forbidden}, which no release may read`,
      );
  }
  if (allowedUnder) {
    const roots = await Promise.all(allowedUnder.map(real));
    if (!roots.some((root) => isBelow(path, root)))
      throw new FetchError(
        url.href,
        `refused: '${path}' is neither below the descriptor's directory nor below a --file-root (${roots.join(", ") || "none"})`,
      );
  }
  return path;
}

/**
 * Reads a `file:` or `http(s):` URL whole. `file:` URLs follow `access`; a build source
 * (`descriptorUrl` given) must also lie below its descriptor's directory (a `file:`
 * descriptor) or a file root. Errors name the path and the rule, never the content.
 */
export async function readSource(
  url: URL,
  access: SourceAccess,
  descriptorUrl?: URL,
): Promise<Buffer> {
  const text = url.href;
  if (url.protocol === "file:") {
    const allowedUnder = descriptorUrl
      ? [
          ...(descriptorUrl.protocol === "file:" ? [dirname(fileURLToPath(descriptorUrl))] : []),
          ...access.fileRoots,
        ]
      : undefined;
    const path = await allowedPath(url, access, allowedUnder);
    if (!access.reader) {
      try {
        return await readFile(path);
      } catch (err) {
        throw new FetchError(text, (err as NodeJS.ErrnoException).code ?? String(err));
      }
    }
    return await readFileAsUser(path, {
      user: access.reader,
      url: text,
      maxBytes: MAX_BYTES,
      timeoutMs: FILE_READ_TIMEOUT_MS,
      ...(access.cgroup ? { cgroup: access.cgroup } : {}),
    });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new FetchError(
      text,
      `unsupported scheme '${url.protocol}' (use file:, https: or a path)`,
    );
  }
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(300_000) });
  } catch (err) {
    throw new FetchError(text, (err as Error).message);
  }
  if (!response.ok) throw new FetchError(text, `HTTP ${response.status}`);
  const length = Number(response.headers.get("content-length") ?? 0);
  if (length > MAX_BYTES) throw new FetchError(text, `larger than ${MAX_BYTES} bytes`);
  return Buffer.from(await response.arrayBuffer());
}

export function sha256Hex(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Throws ChecksumMismatchError unless `data` hashes to `expected`. */
export function checkSha256(url: string, data: Buffer, expected: string): void {
  const actual = sha256Hex(data);
  if (actual !== expected) throw new ChecksumMismatchError(url, expected, actual);
}
