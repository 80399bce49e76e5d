import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ChecksumMismatchError, FetchError } from "../errors.js";

/** Limits one download so a wrong URL cannot fill the disk. */
const MAX_BYTES = 1 << 30;

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

/** Reads a `file:` or `http(s):` URL whole. */
export async function readSource(url: URL): Promise<Buffer> {
  const text = url.href;
  if (url.protocol === "file:") {
    try {
      return await readFile(fileURLToPath(url));
    } catch (err) {
      throw new FetchError(text, (err as NodeJS.ErrnoException).code ?? String(err));
    }
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
