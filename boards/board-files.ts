import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const compiled = dirname(fileURLToPath(import.meta.url));
// tsc does not copy the YAML files: from dist/boards, read them from the source folder.
const here = [compiled, join(compiled, "..", "..", "boards")].find(
  (dir) => existsSync(dir) && readdirSync(dir).some((f) => f.endsWith(".yaml")),
) as string;

/** Ids of the boards shipped in this folder, sorted. */
export function boardIds(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.slice(0, -".yaml".length))
    .sort();
}

/**
 * The board file for `idOrPath`: a shipped board id, or a path to a YAML file of one's
 * own. Undefined when it is neither.
 */
export function boardFile(idOrPath: string): string | undefined {
  if (/^[a-z0-9][a-z0-9_-]*$/.test(idOrPath)) {
    const shipped = join(here, `${idOrPath}.yaml`);
    if (existsSync(shipped)) return shipped;
  }
  return /\.ya?ml$/.test(idOrPath) && existsSync(idOrPath) ? idOrPath : undefined;
}

/** Absolute path of a board's toolchain file (`toolchains/…`, relative to this folder). */
export function toolchainFile(relative: string): string {
  return join(here, relative);
}
