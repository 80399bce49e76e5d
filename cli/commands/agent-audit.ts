import type { Command } from "commander";
import { printState, withJsonOption } from "../output.js";
import type { CommandContext } from "../program.js";

/** Exit status when the host lacks something (or would not say), so provisioning can gate on it. */
export const EXIT_HOST_LACKS = 3;

interface HostAuditReport {
  verdict: import("../../agent/index.js").HostCheckStatus;
  data: string;
  checks: import("../../agent/index.js").HostCheck[];
}

function renderHostAudit(report: HostAuditReport): string {
  const width = Math.max(...report.checks.map((c) => c.id.length));
  const lines = report.checks.flatMap((c) => [
    `${c.status.toUpperCase().padEnd(7)}  ${c.id.padEnd(width)}  ${c.detail}`,
    ...(c.remedy === undefined ? [] : [`${" ".repeat(width + 11)}remedy: ${c.remedy}`]),
  ]);
  return [`data directory: ${report.data}`, ...lines, `verdict: ${report.verdict}`].join("\n");
}

/**
 * `outpost agent audit [--data DIR | --config FILE] [--json]`: what this host must give
 * for partitions to hold (/proc hidepid, project quotas on the data filesystem, cgroup
 * BPF, seccomp filters, cgroups), each ok, missing or unknown with why and what to do.
 * Exits 0 when every check is ok, EXIT_HOST_LACKS otherwise.
 */
export function registerAgentAudit(agent: Command, context: CommandContext): void {
  withJsonOption(
    agent
      .command("audit")
      .description(
        `check what this host gives partitions: /proc hidepid, project quotas on the data filesystem, cgroup BPF, seccomp, cgroups; exit ${EXIT_HOST_LACKS} when something is missing or unknown`,
      )
      .option(
        "--data <dir>",
        "the agent's data directory (default: the image's, /var/lib/outpost/agent)",
      )
      .option("--config <file>", "take the data directory from an `agent start` settings file"),
  ).action(async (options: { data?: string; config?: string; json?: boolean }) => {
    const agentModule = await import("../../agent/index.js");
    let data = options.data;
    if (data === undefined && options.config !== undefined) {
      const { loadConfigFile } = await import("../config/index.js");
      data = loadConfigFile<import("../../agent/index.js").AgentConfigFile>(
        options.config,
        agentModule.agentConfigSchema,
      ).data;
    }
    data ??= agentModule.DEFAULT_DATA_DIRS[0] as string;
    const checks = agentModule.hostChecks(agentModule.readHostAuditInputs(data));
    const report: HostAuditReport = { verdict: agentModule.hostVerdict(checks), data, checks };
    printState(context.io, options, report, renderHostAudit);
    if (report.verdict !== "ok") process.exitCode = EXIT_HOST_LACKS;
  });
}
