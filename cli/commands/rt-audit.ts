import type { Command } from "commander";
import {
  type AuditCheck,
  type AuditStatus,
  auditChecks,
  auditVerdict,
  readAuditInputs,
} from "../../realtime/index.js";
import { printState, withJsonOption } from "../output.js";
import type { CommandContext } from "../program.js";

/** Exit status when a check fails, so scripts can gate on the audit. */
const EXIT_AUDIT_FAILED = 1;

interface AuditReport {
  verdict: AuditStatus;
  checks: AuditCheck[];
}

function renderAudit(report: AuditReport): string {
  const width = Math.max(...report.checks.map((c) => c.id.length));
  const lines = report.checks.flatMap((c) => [
    `${c.status.toUpperCase().padEnd(4)}  ${c.id.padEnd(width)}  ${c.detail}`,
    ...(c.remedy === undefined ? [] : [`${" ".repeat(width + 8)}remedy: ${c.remedy}`]),
  ]);
  return [...lines, `verdict: ${report.verdict}`].join("\n");
}

/** `outpost rt audit`: each RT-relevant kernel setting as pass|warn|fail with its remedy. */
export function registerRtAudit(rt: Command, context: CommandContext): void {
  withJsonOption(
    rt
      .command("audit")
      .description(
        "check PREEMPT_RT, isolcpus/nohz_full/rcu_nocbs, governor, idle states, THP, RT throttling, swap, IRQ affinity, timer migration; exit 1 on a fail",
      ),
  ).action((options: { json?: boolean }) => {
    const checks = auditChecks(readAuditInputs());
    const report: AuditReport = { verdict: auditVerdict(checks), checks };
    printState(context.io, options, report, renderAudit);
    if (report.verdict === "fail") process.exitCode = EXIT_AUDIT_FAILED;
  });
}
