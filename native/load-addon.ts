import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { NativeAddonMissingError } from "./errors.js";

/**
 * The package root is the first ancestor holding binding.gyp; searching for it keeps
 * the same code working from the sources (tsx, tests) and from dist/ (the installed CLI).
 */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  while (!existsSync(join(dir, "binding.gyp"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no binding.gyp above ${from}`);
    dir = parent;
  }
  return dir;
}

export function loadAddon<T>(): T {
  const path =
    process.env.OUTPOST_NATIVE_ADDON ?? join(packageRoot(), "build", "Release", "outpost.node");
  try {
    return createRequire(import.meta.url)(path) as T;
  } catch (cause) {
    throw new NativeAddonMissingError(path, cause);
  }
}
