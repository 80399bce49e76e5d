import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "../../common/index.js";
import type { Cgroup, CgroupLimits } from "../../native/index.js";
import { BuildFailedError, DescriptorError } from "../errors.js";
import { writeFileBeneath } from "../files/write-beneath.js";
import { openOrCreateChild } from "../partitions/cgroup-child.js";
import { renderTemplate } from "../template.js";
import { type BuildAccount, openBuildAccount } from "./build-account.js";
import { logTail, runBuildStep } from "./build-step.js";
import { installTimeCommandProblems, PROCESS_PATH } from "./command-check.js";
import type { SoftwareDescriptor } from "./descriptor.js";
import { normaliseInstalledTree } from "./normalise-tree.js";
import { outpostRuntime } from "./outpost-runtime.js";
import { parseDescriptor } from "./parse-descriptor.js";
import {
  checkSha256,
  readSource,
  resolveSource,
  type SourceAccess,
  sha256Hex,
  toUrl,
} from "./source.js";

export interface InstalledSoftware {
  /** The descriptor URL as the master names it. */
  url: string;
  /** Hash of the URL and the descriptor's content: the install directory's name. */
  id: string;
  dir: string;
  descriptor: SoftwareDescriptor;
  installedAt: number;
}

/** What the agent keeps of an install, outside any tree a release can write. */
interface InstalledRecord {
  url: string;
  id: string;
  installedAt: number;
  /** The descriptor as installed, so instances render without fetching it again. */
  descriptor: string;
}

export interface InstallOptions {
  /** Where install trees live (`<data>/software`, readable by partitions). */
  root: string;
  /** Where the agent records complete installs (`<data>/releases`, root only). */
  records: string;
  /** Where builds work and log (`<data>/builds`, root only but for each build's own dir). */
  builds: string;
  /**
   * Build accounts are `<prefix><12 hex of the install id>`: one per install, made
   * before its fetch and removed after, so no two builds ever share an account.
   * Absent in laptop mode (builds run as the invoking user).
   */
  buildAccountPrefix?: string;
  /** Group each install's build runs in (a child per install); absent in laptop mode. */
  buildCgroup?: Cgroup;
  /** Limits of each install's build group (default: none beyond its parent's). */
  buildLimits?: CgroupLimits;
  /** RLIMIT_NOFILE (soft and hard) of every build command (default: the agent's own). */
  buildOpenFiles?: number;
  /** Who may read which `file:` URL (see SourceAccess). */
  access: SourceAccess;
  /** Per build command (default 30 minutes). */
  stepTimeoutMs?: number;
  logger: Logger;
}

/** `<id>`: 20 hex digits of sha256(url, content). */
export function softwareId(url: string, content: Buffer | string): string {
  return sha256Hex(`${url}\n${sha256Hex(content)}`).slice(0, 20);
}

/** Paths of one install: its tree, the build's work directory and log, the agent's record. */
export function installPaths(
  options: Pick<InstallOptions, "root" | "records" | "builds">,
  id: string,
): { dir: string; work: string; log: string; record: string } {
  return {
    dir: join(options.root, id),
    work: join(options.builds, id),
    log: join(options.builds, `${id}.log`),
    record: join(options.records, `${id}.json`),
  };
}

/**
 * Installs the release at `url` unless it is installed already: read the descriptor
 * unprivileged, make the install's own build account, fetch every source with its
 * mandatory sha256 check, extract, run the build steps as that account with
 * `{{software}}` the install tree, then kill whatever the build left running, hand the
 * tree to root with safe modes, and record the install (last, atomically). All or
 * nothing: on any failure the tree and work directory are removed (the build log stays)
 * and the error says why, with the log's tail for a build step.
 */
export async function installSoftware(
  url: string,
  options: InstallOptions,
): Promise<InstalledSoftware> {
  const text = await readSource(toUrl(url), options.access);
  const descriptor = parseDescriptor(text.toString("utf8"), url);
  const id = softwareId(url, text);
  const paths = installPaths(options, id);
  const known = readRecord(paths.record);
  if (known && existsSync(paths.dir)) return { ...known, dir: paths.dir, descriptor };
  const logger = options.logger.child({ software: url, id });
  rmSync(paths.dir, { recursive: true, force: true });
  rmSync(paths.work, { recursive: true, force: true });
  logger.info({ name: descriptor.name, version: descriptor.version }, "software.installing");
  const group = options.buildCgroup ? openOrCreateChild(options.buildCgroup, id) : undefined;
  let account: BuildAccount | undefined;
  try {
    if (group && options.buildLimits) group.setLimits(options.buildLimits);
    account = options.buildAccountPrefix
      ? openBuildAccount(`${options.buildAccountPrefix}${id.slice(0, 12)}`)
      : undefined;
    // Private to the build account while it builds: no other build can enter either.
    mkdirSync(paths.dir, { mode: 0o700 });
    mkdirSync(paths.work, { mode: 0o700 });
    writeFileSync(paths.log, "", { mode: 0o600 });
    account?.own(paths.dir);
    account?.own(paths.work);
    await build(url, descriptor, { ...paths, ...(group ? { group } : {}) }, options, account);
    // Nothing of the build may run on while its tree is handed over.
    await group?.kill();
    if ((descriptor.build?.steps ?? []).length === 0) {
      // No steps: what was fetched and unpacked is the release, as it stands.
      rmSync(paths.dir, { recursive: true, force: true });
      renameSync(paths.work, paths.dir);
    }
    rmSync(paths.work, { recursive: true, force: true });
    const refused = account ? normaliseInstalledTree(paths.dir, account.uid) : [];
    if (refused.length > 0)
      throw new BuildFailedError(url, "hand-over of the tree", "refused", refused.join("\n"));
    const missing = installTimeCommandProblems(descriptor, {
      software: paths.dir,
      outpost: outpostRuntime(),
    });
    if (missing.length > 0)
      throw new BuildFailedError(
        url,
        "the check of its commands",
        "a process's program is missing from the installed tree",
        missing.join("\n"),
      );
    const installedAt = Date.now();
    const record: InstalledRecord = { url, id, installedAt, descriptor: text.toString("utf8") };
    writeFileBeneath(options.records, `${id}.json`, `${JSON.stringify(record)}\n`, {
      mode: 0o600,
    });
    logger.info({ dir: paths.dir }, "software.installed");
    return { url, id, dir: paths.dir, descriptor, installedAt };
  } catch (err) {
    await group?.kill();
    rmSync(paths.dir, { recursive: true, force: true });
    rmSync(paths.work, { recursive: true, force: true });
    logger.warn({ err }, "software.install_failed");
    throw err;
  } finally {
    await group?.remove();
    try {
      await account?.remove();
    } catch (err) {
      logger.warn({ err, account: account?.name }, "software.build_account_left");
    }
  }
}

async function build(
  url: string,
  descriptor: SoftwareDescriptor,
  paths: { dir: string; work: string; log: string; group?: Cgroup },
  options: InstallOptions,
  account: BuildAccount | undefined,
): Promise<void> {
  const env = {
    PATH: PROCESS_PATH,
    HOME: paths.work,
    TMPDIR: paths.work,
    LANG: "C.UTF-8",
    OUTPOST_SOFTWARE: paths.dir,
  };
  const vars = { software: paths.dir, build: paths.work };
  const run = async (argv: string[], what: string): Promise<void> => {
    const status = await runBuildStep({
      argv,
      cwd: paths.work,
      ...(account ? { user: account.name } : {}),
      env,
      logFile: paths.log,
      timeoutMs: options.stepTimeoutMs ?? 1_800_000,
      ...(paths.group ? { cgroup: paths.group } : {}),
      ...(options.buildOpenFiles !== undefined ? { openFiles: options.buildOpenFiles } : {}),
    });
    if (status.code === 0) return;
    const reason = status.timedOut
      ? `timed out after ${options.stepTimeoutMs ?? 1_800_000} ms`
      : status.signal
        ? `killed by ${status.signal}`
        : `exit status ${status.code}`;
    throw new BuildFailedError(url, what, reason, logTail(paths.log));
  };
  const access = { ...options.access, ...(paths.group ? { cgroup: paths.group } : {}) };
  const extracts: { file: string; where: string }[] = [];
  const names = new Set<string>();
  for (const [i, source] of (descriptor.build?.fetch ?? []).entries()) {
    const from = resolveSource(url, source.url);
    const data = await readSource(from, access, toUrl(url));
    checkSha256(from.href, data, source.sha256);
    const name =
      basename(from.protocol === "file:" ? fileURLToPath(from) : from.pathname) || `source-${i}`;
    if (names.has(name))
      throw new DescriptorError(url, [
        `build.fetch[${i}].url: another source has the file name '${name}'`,
      ]);
    names.add(name);
    // Written before any build process runs, fd-relative: nothing can be planted there.
    writeFileBeneath(paths.work, name, data, {
      mode: 0o644,
      ...(account ? { owner: { uid: account.uid, gid: account.gid } } : {}),
    });
    if (source.extract)
      extracts.push({ file: join(paths.work, name), where: `build.fetch[${i}] extract` });
  }
  for (const { file, where } of extracts) {
    await run(["tar", "-xf", file, "-C", paths.work], where);
    // Unpacked: the archive itself is not part of the release (unless the archive put a
    // directory of that name in its place).
    if (lstatSync(file, { throwIfNoEntry: false })?.isDirectory() === false) rmSync(file);
  }
  for (const [i, step] of (descriptor.build?.steps ?? []).entries()) {
    const where = `build.steps[${i}]`;
    await run(
      step.run.map((arg) => renderTemplate(arg, vars, where)),
      where,
    );
  }
}

function readRecord(path: string): InstalledRecord | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as InstalledRecord;
  } catch {
    return undefined;
  }
}

/** Every complete install: a record whose tree exists. */
export function listInstalled(
  options: Pick<InstallOptions, "root" | "records" | "builds">,
): InstalledSoftware[] {
  if (!existsSync(options.records)) return [];
  const out: InstalledSoftware[] = [];
  for (const entry of readdirSync(options.records)) {
    const m = /^([0-9a-f]{20})\.json$/.exec(entry);
    if (!m?.[1]) continue;
    const paths = installPaths(options, m[1]);
    const record = readRecord(paths.record);
    if (!record || !existsSync(paths.dir)) continue;
    out.push({
      url: record.url,
      id: record.id,
      dir: paths.dir,
      descriptor: parseDescriptor(record.descriptor, record.url),
      installedAt: record.installedAt,
    });
  }
  return out;
}

/** The descriptor an installed release was installed with (`outpost rt verify`). */
export function installedDescriptor(
  options: Pick<InstallOptions, "root" | "records" | "builds">,
  id: string,
): SoftwareDescriptor | undefined {
  const record = readRecord(installPaths(options, id).record);
  return record ? parseDescriptor(record.descriptor, record.url) : undefined;
}

/**
 * Removes what interrupted installs left: work directories, and trees the agent holds
 * no record of.
 */
export function removeInterruptedInstalls(
  options: Pick<InstallOptions, "root" | "records" | "builds">,
): string[] {
  const removed: string[] = [];
  if (existsSync(options.builds))
    for (const entry of readdirSync(options.builds)) {
      if (entry.endsWith(".log")) continue;
      rmSync(join(options.builds, entry), { recursive: true, force: true });
      removed.push(entry);
    }
  if (existsSync(options.root))
    for (const entry of readdirSync(options.root)) {
      if (existsSync(installPaths(options, entry).record)) continue;
      rmSync(join(options.root, entry), { recursive: true, force: true });
      removed.push(entry);
    }
  return removed;
}
