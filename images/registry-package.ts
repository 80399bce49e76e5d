import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { ImageInputError } from "./errors.js";
import { runTool } from "./run-tool.js";

/** `$XDG_CACHE_HOME/outpost` (else `~/.cache/outpost`): packages fetched for image builds. */
export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "outpost");
}

/**
 * The tarball of `pkg@version` from the npm registry (the only registry builds may
 * download from), fetched once with `npm pack` into `cacheDir`; a cut-short fetch
 * leaves nothing under the final name.
 */
export async function packedFromRegistry(
  pkg: string,
  version: string,
  cacheDir: string,
  signal?: AbortSignal,
): Promise<string> {
  const file = join(cacheDir, `${pkg.replace("@", "").replace("/", "-")}-${version}.tgz`);
  if (existsSync(file)) return file;
  const partial = join(cacheDir, `.pack-${process.pid}`);
  mkdirSync(partial, { recursive: true });
  try {
    await runTool("npm", ["pack", `${pkg}@${version}`, "--pack-destination", partial], { signal });
    const packed = readdirSync(partial).find((f) => f.endsWith(".tgz"));
    if (!packed) throw new ImageInputError(`npm pack ${pkg}@${version} wrote nothing`, pkg);
    renameSync(join(partial, packed), file);
    return file;
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}
