import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { Arch } from "../boards/index.js";
import { packageRoot } from "../native/index.js";
import { ImageInputError } from "./errors.js";
import { packedFromRegistry } from "./registry-package.js";
import { runTool } from "./run-tool.js";

/** Where each arch's addon is built: node-gyp for the host, cmake-js cross-builds for ARM. */
const ADDON: Record<Arch, { file: string; script?: string }> = {
  x86_64: { file: "build/Release/outpost.node" },
  aarch64: { file: "build-arm64/Release/outpost.node", script: "build:native:arm64" },
  armhf: { file: "build-armhf/Release/outpost.node" },
};

/** Prebuilt binaries of dependencies for other systems than the board's (zeromq ships many). */
const FOREIGN_BUILDS: Record<Arch, string[]> = {
  x86_64: ["darwin", "win32", "linux/arm64"],
  aarch64: ["darwin", "win32", "linux/x64"],
  armhf: ["darwin", "win32", "linux/x64", "linux/arm64"],
};

/** Platform packages npm picks by CPU (optional dependencies), named per board arch. */
const NODE_RS_SUFFIX: Record<Arch, string> = {
  x86_64: "linux-x64-gnu",
  aarch64: "linux-arm64-gnu",
  armhf: "linux-arm-gnueabihf",
};

/**
 * Copies the Outpost package as it runs on a box into `dest` (`/opt/outpost/app`): the
 * compiled dist (without tests and benches), the production dependencies as `npm ls
 * --omit=dev` lists them, and the native addon built for the board's arch (the ARM
 * cross-build is run when missing). Platform packages of dependencies are swapped for
 * the board's from the npm registry.
 */
export async function stageOutpostBundle(
  arch: Arch,
  dest: string,
  cacheDir: string,
  signal?: AbortSignal,
): Promise<void> {
  const root = packageRoot();
  if (!existsSync(join(root, "dist/cli/main.js"))) {
    throw new ImageInputError(`${root}/dist is not built: run npm run build`, "dist");
  }
  const addon = ADDON[arch];
  if (!existsSync(join(root, addon.file))) {
    if (!addon.script) {
      throw new ImageInputError(
        `no ${arch} build of the native addon at ${addon.file}`,
        addon.file,
      );
    }
    await runTool("npm", ["run", "--silent", addon.script], { signal, cwd: root });
  }
  mkdirSync(join(dest, "build/Release"), { recursive: true });
  cpSync(join(root, addon.file), join(dest, "build/Release/outpost.node"));
  for (const f of ["package.json", "binding.gyp"]) cpSync(join(root, f), join(dest, f));
  cpSync(join(root, "dist"), join(dest, "dist"), {
    recursive: true,
    filter: (src) => !/^(test|bench|test-bundles)(\/|$)/.test(relative(join(root, "dist"), src)),
  });
  cpSync(join(root, "boards"), join(dest, "boards"), {
    recursive: true,
    filter: (src) => !src.endsWith(".ts"),
  });
  const listed = await runTool("npm", ["ls", "--omit=dev", "--all", "--parseable"], {
    signal,
    cwd: root,
  });
  const modules = listed
    .split("\n")
    .filter((p) => p.startsWith(join(root, "node_modules")))
    .map((p) => relative(root, p))
    .filter((p) => !/(^|\/)@node-rs\/crc32-linux-/.test(p))
    .sort();
  for (const m of modules) {
    if (modules.some((parent) => m !== parent && m.startsWith(`${parent}/`))) continue;
    cpSync(join(root, m), join(dest, m), { recursive: true, dereference: true });
  }
  for (const foreign of FOREIGN_BUILDS[arch]) {
    rmSync(join(dest, "node_modules/zeromq/build", foreign), { recursive: true, force: true });
  }
  const crc32 = JSON.parse(
    readFileSync(join(root, "node_modules/@node-rs/crc32/package.json"), "utf8"),
  );
  const platformPkg = `@node-rs/crc32-${NODE_RS_SUFFIX[arch]}`;
  const tarball = await packedFromRegistry(platformPkg, crc32.version, cacheDir, signal);
  const into = join(dest, "node_modules", platformPkg);
  mkdirSync(into, { recursive: true });
  await runTool("tar", ["-xzf", tarball, "-C", into, "--strip-components=1", "--no-same-owner"], {
    signal,
  });
  writeFileSync(join(dest, ".outpost-bundle"), `${arch}\n`);
}
