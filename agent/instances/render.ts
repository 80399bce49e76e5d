import { isAbsolute, join, relative } from "node:path";
import { hasCode } from "../../common/errors.js";
import { parseDuration } from "../../common/index.js";
import { type CgroupLimits, parseSize } from "../../native/index.js";
import { type RealtimeAttributes, resolveRealtimeSpec } from "../../realtime/index.js";
import { DescriptorError, SecretExposedError } from "../errors.js";
import type { PartitionLayout } from "../partitions/partition-layout.js";
import type { Probe } from "../promises/probe.js";
import { PROCESS_PATH } from "../software/command-check.js";
import type { RestartPolicy } from "../software/descriptor.js";
import type { InstalledSoftware } from "../software/install.js";
import { validateParameters } from "../software/parse-descriptor.js";
import { secretProblems } from "../software/secret-parameters.js";
import { renderTemplate, type TemplateVars } from "../template.js";
import { instanceVars } from "./render-requests.js";

export interface RenderedFile {
  /** Absolute, inside the partition directory. */
  path: string;
  mode: number;
  content: string;
}

export interface RenderedProcess {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  restart: RestartPolicy;
  limits: CgroupLimits;
  /** The descriptor's `realtime:` block resolved; absent: a plain process. */
  realtime?: RealtimeAttributes;
}

export interface RenderedPromise {
  name: string;
  /** A command probe gets its user, cwd and cgroup when it runs. */
  probe: Probe;
  intervalMs: number;
  timeoutMs: number;
}

/** An instance with every template filled in: what the runtime applies. */
export interface RenderedInstance {
  parameters: Record<string, unknown>;
  files: RenderedFile[];
  processes: RenderedProcess[];
  promises: RenderedPromise[];
  publish: Record<string, string>;
  /** The release's `instance.seccomp.deny`: denied on top of the partition default. */
  seccompDeny?: string[];
}

const DEFAULT_INTERVAL_MS = 10_000;
const DEFAULT_TIMEOUT_MS = 5_000;

function hostPort(text: string, where: string, url: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535)
    throw new DescriptorError(url, [`${where}: '${text}' is not HOST:PORT`]);
  return { host: (m[1] as string).replace(/^\[(.*)\]$/, "$1"), port };
}

function limitsOf(
  resources: { cpu?: number; memory?: string | number; pids?: number } | undefined,
  where: string,
  url: string,
): CgroupLimits {
  const limits: CgroupLimits = {};
  if (resources?.cpu !== undefined) limits.cpuCores = resources.cpu;
  if (resources?.pids !== undefined) limits.pidsMax = resources.pids;
  if (resources?.memory !== undefined) {
    const bytes =
      typeof resources.memory === "number" ? resources.memory : parseSize(resources.memory);
    if (bytes === undefined || bytes <= 0)
      throw new DescriptorError(url, [
        `${where}.resources.memory: '${resources.memory}' is not a size (e.g. 64Mi)`,
      ]);
    limits.memoryMax = bytes;
  }
  return limits;
}

/**
 * Pure: validates `parameters` (the master's strings) against the release's schema and
 * renders every file, process, promise and published value of the instance for
 * `partition`, with the connection parameters of the instances it requested as
 * `requests.NAME.KEY`. Throws ParametersError, TemplateError or DescriptorError naming what is
 * wrong and where, SecretExposedError when a secret parameter would reach a command line.
 */
export function renderInstance(
  instance: string,
  software: InstalledSoftware,
  partition: PartitionLayout,
  parameters: Record<string, string>,
  requested: Record<string, Record<string, string>> = {},
): RenderedInstance {
  const spec = software.descriptor.instance ?? {};
  const url = software.url;
  // Parsing refused these already; checked again so no path renders a secret into argv.
  const exposed = secretProblems(software.descriptor);
  if (exposed.length > 0) throw new SecretExposedError(url, exposed);
  const params = validateParameters(software.descriptor, instance, parameters);
  const vars: TemplateVars = {
    ...instanceVars(instance, software, partition, params),
    requests: requested,
  };
  const render = (text: string, where: string) => renderTemplate(text, vars, where);
  const files = (spec.files ?? []).map((f, i) => {
    const where = `instance.files[${i}].path`;
    const path = join(partition.path, render(f.path, where));
    // A parameter must not move a file out of the partition.
    const inside = relative(partition.path, path);
    if (inside === "" || inside.startsWith("..") || isAbsolute(inside))
      throw new DescriptorError(url, [`${where}: '${path}' is outside the partition`]);
    return {
      path,
      mode: Number.parseInt(f.mode ?? "0640", 8),
      content: render(f.content, `instance.files[${i}].content`),
    };
  });
  const processes = (spec.processes ?? []).map((p, i) => {
    const where = `instance.processes[${i}]`;
    let realtime: RealtimeAttributes | undefined;
    try {
      realtime = p.realtime ? resolveRealtimeSpec(p.realtime) : undefined;
    } catch (err) {
      if (!hasCode(err, "E_RT_SPEC")) throw err;
      throw new DescriptorError(url, [`${where}.${err.message}`]);
    }
    const [command, ...args] = p.command.map((a, j) => render(a, `${where}.command[${j}]`)) as [
      string,
      ...string[],
    ];
    const env: Record<string, string> = {
      PATH: PROCESS_PATH,
      HOME: partition.path,
      LANG: "C.UTF-8",
    };
    for (const [k, v] of Object.entries(p.env ?? {})) env[k] = render(v, `${where}.env.${k}`);
    return {
      name: p.name,
      command,
      args,
      env,
      restart: p.restart ?? "always",
      limits: limitsOf(p.resources, where, url),
      ...(realtime ? { realtime } : {}),
    };
  });
  const promises = (spec.promises ?? []).map((p, i): RenderedPromise => {
    const where = `instance.promises[${i}]`;
    const intervalMs = p.interval ? parseDuration(p.interval) : DEFAULT_INTERVAL_MS;
    const timeoutMs = p.timeout
      ? parseDuration(p.timeout)
      : Math.min(intervalMs, DEFAULT_TIMEOUT_MS);
    let probe: Probe;
    if (p.tcp !== undefined) {
      probe = { kind: "tcp", ...hostPort(render(p.tcp, `${where}.tcp`), `${where}.tcp`, url) };
    } else if (p.http !== undefined) {
      probe = { kind: "http", url: render(p.http, `${where}.http`) };
    } else if (p.file !== undefined) {
      const path = render(p.file, `${where}.file`);
      probe = isAbsolute(path)
        ? { kind: "file", path }
        : { kind: "file", path: join(partition.path, path), within: partition.path };
    } else {
      probe = {
        kind: "command",
        argv: (p.command ?? []).map((a, j) => render(a, `${where}.command[${j}]`)),
        cwd: partition.path,
        env: { PATH: PROCESS_PATH, HOME: partition.path, LANG: "C.UTF-8" },
      };
    }
    return { name: p.name, probe, intervalMs, timeoutMs };
  });
  const publish: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.publish ?? {}))
    publish[k] = render(v, `instance.publish.${k}`);
  const seccompDeny = spec.seccomp?.deny ? { seccompDeny: [...spec.seccomp.deny] } : {};
  return { parameters: params, files, processes, promises, publish, ...seccompDeny };
}
