import type { InstanceLimits } from "../../protocol/index.js";
import { printState, withJsonOption } from "../output.js";
import type { RegisterCommand } from "../program.js";
import { formatTime } from "./format-time.js";
import { masterClient, withMasterOptions } from "./master-client.js";

function size(bytes: number): string {
  for (const [unit, n] of [
    ["Ti", 1024 ** 4],
    ["Gi", 1024 ** 3],
    ["Mi", 1024 ** 2],
    ["Ki", 1024],
  ] as const)
    if (bytes >= n && bytes % (n / 1024) === 0) return `${+(bytes / n).toFixed(2)}${unit}`;
  return `${bytes} B`;
}

/** What holds for the instance on its node, in the words of `--limit`; absent ones are none. */
function formatLimits(l: InstanceLimits): string {
  return [
    `memory ${l.memoryBytes !== undefined ? size(l.memoryBytes) : "max"}`,
    `pids ${l.pids ?? "max"}`,
    `cpu ${l.cpu ?? "max"}`,
    ...(l.openFiles !== undefined ? [`open-files ${l.openFiles}`] : []),
    `disk ${l.diskBytes !== undefined ? `${size(l.diskBytes)} (${l.disk})` : "max"}`,
  ].join(", ");
}

/** `outpost show INSTANCE [--json]`: an instance's placement, status, promises, connection. */
export const registerShow: RegisterCommand = (program, context) => {
  withJsonOption(
    withMasterOptions(program.command("show <instance>").description("show an instance")),
  ).action(
    async (name: string, options: { json?: boolean; master?: string; tokenFile?: string }) => {
      const shown = await (await masterClient(options)).show(name);
      printState(context.io, options, shown, ({ instance: i, usage }) => {
        const lines = [
          `instance   ${i.name}`,
          `software   ${i.software}`,
          i.partition === null
            ? `node       ${i.node ?? "(none yet)"} (no partition yet)`
            : `node       ${i.node} (partition ${i.partition}${i.cores.length > 0 ? `, cores ${i.cores.join(",")}` : ""})`,
          `wanted     ${i.requestedState}`,
          `state      ${i.state} (status ${i.status}, reported ${formatTime(i.reportedAt)})`,
        ];
        if (i.parent !== null) lines.push(`requested  by ${i.parent}`);
        for (const [k, v] of Object.entries(i.parameters)) lines.push(`param      ${k}=${v}`);
        for (const [k, v] of Object.entries(i.connection)) lines.push(`publishes  ${k}=${v}`);
        for (const p of i.promises) {
          lines.push(
            `promise    ${p.name}: ${p.ok ? "ok" : "FAILED"}${p.message ? ` (${p.message})` : ""}`,
          );
        }
        if (i.limits) lines.push(`limits     ${formatLimits(i.limits)}`);
        const last = usage[0];
        if (last)
          lines.push(`usage      ${last.cpuSeconds} cpu-s, peak ${last.memoryPeakBytes} bytes`);
        return lines.join("\n");
      });
    },
  );
};
