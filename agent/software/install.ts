import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import type { Cgroup } from "../../native/index.js";
import { writeFileAtomic } from "../atomic-file.js";
import { BuildFailedError, DescriptorError } from "../errors.js";
import { openOrCreateChild } from "../partitions/cgroup-child.js";
import { renderTemplate } from "../template.js";
import { logTail, runBuildStep } from "./build-step.js";
import type { SoftwareDescriptor } from "./descriptor.js";
import { parseDescriptor } from "./parse-descriptor.js";
import { checkSha256, readSource, resolveSource, sha256Hex, toUrl } from "./source.js";

/** Written last, atomically: a directory without it is an interrupted install. */
export const INSTALLED_MARK = ".outpost-installed.json";
/** The descriptor as installed, so instances render without fetching it again (offline). */
export const DESCRIPTOR_COPY = ".outpost-software.yaml";

export interface InstalledSoftware {
  /** The descriptor URL as the master names it. */
  url: string;
  /** Hash of the URL and the descriptor's content: the install directory's name. */
  id: string;
  dir: string;
  descriptor: SoftwareDescriptor;
  installedAt: number;
}

export interface InstallOptions {
  /** Where install directories live (`<data>/software`). */
  root: string;
  /** Account the fetch, extract and build run as; absent in laptop mode. */
  buildUser?: { name: string; uid: number; gid: number };
  /**
   * Group each install's build runs in (a child per install), so a timeout or the next
   * agent start kills every build process; absent in laptop mode.
   */
  buildCgroup?: Cgroup;
  /** Per build command (default 30 minutes). */
  stepTimeoutMs?: number;
  logger: Logger;
}

const BUILD_PATH = "/usr/local/bin:/usr/bin:/bin";

/** `<id>`: 20 hex digits of sha256(url, content). */
export function softwareId(url: string, content: Buffer | string): string {
  return sha256Hex(`${url}\n${sha256Hex(content)}`).slice(0, 20);
}

/** Paths of one install: the directory, the build's work directory and log. */
export function installPaths(root: string, id: string): { dir: string; work: string; log: string } {
  return { dir: join(root, id), work: join(root, `${id}.build`), log: join(root, `${id}.log`) };
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (!lstatSync(path).isDirectory()) return;
  for (const entry of readdirSync(path)) {
    const child = join(path, entry);
    if (lstatSync(child).isSymbolicLink()) continue;
    chownTree(child, uid, gid);
  }
}

/**
 * Installs the release at `url` unless it is installed already: fetch every source with
 * its mandatory sha256 check, extract, run the build steps as the build user with
 * `{{software}}` the install directory, then hand the tree to root and mark it installed.
 * All or nothing: on any failure the install and work directories are removed (the build
 * log stays, next to them) and the error says why, with the log's tail for a build step.
 */
export async function installSoftware(
  url: string,
  options: InstallOptions,
): Promise<InstalledSoftware> {
  const text = await readSource(toUrl(url));
  const descriptor = parseDescriptor(text.toString("utf8"), url);
  const id = softwareId(url, text);
  const { dir, work, log } = installPaths(options.root, id);
  if (existsSync(join(dir, INSTALLED_MARK))) return readInstalledMark(url, id, dir, descriptor);
  const logger = options.logger.child({ software: url, id });
  rmSync(dir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
  logger.info({ name: descriptor.name, version: descriptor.version }, "software.installing");
  try {
    mkdirSync(dir, { mode: 0o755 });
    mkdirSync(work, { mode: 0o700 });
    writeFileSync(log, "", { mode: 0o644 });
    const user = options.buildUser;
    if (user) {
      chownSync(dir, user.uid, user.gid);
      chownSync(work, user.uid, user.gid);
    }
    const group = options.buildCgroup ? openOrCreateChild(options.buildCgroup, id) : undefined;
    try {
      await build(url, descriptor, { dir, work, log, ...(group ? { group } : {}) }, options);
    } finally {
      await group?.remove();
    }
    rmSync(work, { recursive: true, force: true });
    if (user) chownTree(dir, 0, 0);
    writeFileSync(join(dir, DESCRIPTOR_COPY), text, { mode: 0o644 });
    const installedAt = Date.now();
    writeFileAtomic(join(dir, INSTALLED_MARK), `${JSON.stringify({ url, id, installedAt })}\n`);
    logger.info({ dir }, "software.installed");
    return { url, id, dir, descriptor, installedAt };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
    logger.warn({ err }, "software.install_failed");
    throw err;
  }
}

async function build(
  url: string,
  descriptor: SoftwareDescriptor,
  paths: { dir: string; work: string; log: string; group?: Cgroup },
  options: InstallOptions,
): Promise<void> {
  const env = { PATH: BUILD_PATH, HOME: paths.work, LANG: "C.UTF-8", OUTPOST_SOFTWARE: paths.dir };
  const vars = { software: paths.dir, build: paths.work };
  const run = async (argv: string[], what: string): Promise<void> => {
    const status = await runBuildStep({
      argv,
      cwd: paths.work,
      ...(options.buildUser ? { user: options.buildUser.name } : {}),
      env,
      logFile: paths.log,
      timeoutMs: options.stepTimeoutMs ?? 1_800_000,
      ...(paths.group ? { cgroup: paths.group } : {}),
    });
    if (status.code === 0) return;
    const reason = status.timedOut
      ? `timed out after ${options.stepTimeoutMs ?? 1_800_000} ms`
      : status.signal
        ? `killed by ${status.signal}`
        : `exit status ${status.code}`;
    throw new BuildFailedError(url, what, reason, logTail(paths.log));
  };
  // Every source is written (by root) before any build-user process runs in the work
  // directory, so nothing planted there can redirect a write.
  const extracts: { file: string; where: string }[] = [];
  for (const [i, source] of (descriptor.build?.fetch ?? []).entries()) {
    const from = resolveSource(url, source.url);
    const data = await readSource(from);
    checkSha256(from.href, data, source.sha256);
    const file = join(
      paths.work,
      basename(from.protocol === "file:" ? fileURLToPath(from) : from.pathname) || `source-${i}`,
    );
    try {
      writeFileSync(file, data, { mode: 0o644, flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      throw new DescriptorError(url, [
        `build.fetch[${i}].url: another source has the file name '${basename(file)}'`,
      ]);
    }
    if (options.buildUser) chownSync(file, options.buildUser.uid, options.buildUser.gid);
    if (source.extract) extracts.push({ file, where: `build.fetch[${i}] extract` });
  }
  for (const { file, where } of extracts) await run(["tar", "-xf", file, "-C", paths.work], where);
  for (const [i, step] of (descriptor.build?.steps ?? []).entries()) {
    const where = `build.steps[${i}]`;
    await run(
      step.run.map((arg) => renderTemplate(arg, vars, where)),
      where,
    );
  }
}

/** Every complete install under `root`, read from its mark and descriptor copy. */
export function listInstalled(root: string): InstalledSoftware[] {
  if (!existsSync(root)) return [];
  const out: InstalledSoftware[] = [];
  for (const entry of readdirSync(root)) {
    const dir = join(root, entry);
    const mark = join(dir, INSTALLED_MARK);
    if (!/^[0-9a-f]{20}$/.test(entry) || !existsSync(mark)) continue;
    const { url, installedAt } = JSON.parse(readFileSync(mark, "utf8")) as {
      url: string;
      installedAt: number;
    };
    const descriptor = parseDescriptor(readFileSync(join(dir, DESCRIPTOR_COPY), "utf8"), url);
    out.push({ url, id: entry, dir, descriptor, installedAt });
  }
  return out;
}

function readInstalledMark(
  url: string,
  id: string,
  dir: string,
  descriptor: SoftwareDescriptor,
): InstalledSoftware {
  return { url, id, dir, descriptor, installedAt: lstatSync(join(dir, INSTALLED_MARK)).mtimeMs };
}

/** Removes what interrupted installs left (work directories, unmarked install directories). */
export function removeInterruptedInstalls(root: string): string[] {
  const removed: string[] = [];
  if (!existsSync(root)) return removed;
  for (const entry of readdirSync(root)) {
    const path = join(root, entry);
    const interrupted = entry.endsWith(".build")
      ? true
      : /^[0-9a-f]{20}$/.test(entry) && !existsSync(join(path, INSTALLED_MARK));
    if (!interrupted) continue;
    rmSync(path, { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}
