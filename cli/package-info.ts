import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
// cli/ when run from the sources, dist/cli/ when run from the build.
const candidates = [join(here, "..", "package.json"), join(here, "..", "..", "package.json")];

function read(): { name: string; version: string; root: string } {
  for (const file of candidates) {
    try {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "outpost" && pkg.version)
        return { name: pkg.name, version: pkg.version, root: dirname(file) };
    } catch {
      // try the next candidate
    }
  }
  throw new Error(`outpost package.json not found near ${here}`);
}

export const packageInfo = read();
