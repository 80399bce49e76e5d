import { rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { repoRoot } from "./run-outpost.js";

/**
 * A CLI entry (by default the buffer-only `test/helpers/buffer-cli-main.ts`) from the
 * current sources, bundled into one ESM file so a child process starts several times
 * faster than under tsx — fault tests that spawn it hundreds of times need that.
 * Dependencies stay external (resolved from the repo's node_modules); the files live
 * in a folder of dist/ so the CLI finds package.json as it does when built. Dynamic imports stay
 * chunks of their own (`splitting`): esbuild hoists a bundled module's imports of
 * packages to the top of its file, so without them `buffer cat`'s on-demand collector
 * would load node-opcua at every start, before its console output is redirected.
 */
export async function bundleCli(
  entry = join(repoRoot, "test", "helpers", "buffer-cli-main.ts"),
): Promise<{ path: string; remove(): void }> {
  const dir = join(repoRoot, "dist", `test-bundle-${process.pid}`);
  await build({
    entryPoints: { main: entry },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    // Error names come from their classes: a renamed class would rename its errors.
    keepNames: true,
    splitting: true,
    outdir: dir,
    outExtension: { ".js": ".mjs" },
    logLevel: "error",
  });
  return {
    path: join(dir, "main.mjs"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
