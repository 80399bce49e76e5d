import { rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { repoRoot } from "./run-outpost.js";

/**
 * A CLI entry (by default the buffer-only `test/helpers/buffer-cli-main.ts`) from the
 * current sources, bundled into one ESM file so a child process starts several times
 * faster than under tsx — fault tests that spawn it hundreds of times need that.
 * Dependencies stay external (resolved from the repo's node_modules); the file lives
 * under dist/ so the CLI finds package.json as it does when built.
 */
export async function bundleCli(
  entry = join(repoRoot, "test", "helpers", "buffer-cli-main.ts"),
): Promise<{ path: string; remove(): void }> {
  const path = join(repoRoot, "dist", "test-bundles", `cli-${process.pid}.mjs`);
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    // Error names come from their classes: a renamed class would rename its errors.
    keepNames: true,
    outfile: path,
    logLevel: "error",
  });
  return { path, remove: () => rmSync(path, { force: true }) };
}
