import { once } from "node:events";
import type { RegisterCommand } from "../program.js";
import { UsageError } from "../usage-error.js";

/** `outpost demo`: the whole stack on this box, with the status page to watch it. */
export const registerDemo: RegisterCommand = (program, context) => {
  program
    .command("demo")
    .description(
      "run a master, an agent, the turbine simulator and a collector instance on this box; prints the status page URL; Ctrl-C stops everything",
    )
    .option(
      "--dir <dir>",
      "state directory, reused by the next run (default: /var/lib/outpost-demo as root, else ./outpost-demo)",
    )
    .option("--http <address>", "status page and API address HOST:PORT", "127.0.0.1:5661")
    .option(
      "--flaky [UP/DOWN]",
      "put a link between agent and master that is up UP seconds, then down DOWN seconds, on a cycle (default 30/20)",
    )
    .option(
      "--reset",
      "remove the demo's state, accounts and groups (what earlier runs left), then exit",
    )
    .action(
      async (options: {
        dir?: string;
        http: string;
        flaky?: boolean | string;
        reset?: boolean;
      }) => {
        const dir =
          options.dir ?? (process.getuid?.() === 0 ? "/var/lib/outpost-demo" : "outpost-demo");
        if (options.reset) {
          const { resetDemo } = await import("../demo/run-demo.js");
          const done = await resetDemo(dir);
          context.io.stdout.write(
            `Outpost demo reset: removed ${dir}, ${done.accounts.length} account(s), ${done.groups.length} group(s).\n`,
          );
          return;
        }
        const { parseHttpAddress } = await import("../../master/index.js");
        try {
          parseHttpAddress(options.http);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        const { runDemo } = await import("../demo/run-demo.js");
        await runDemo({
          dir,
          http: options.http,
          ...(options.flaky !== undefined ? { flaky: flakyCycle(options.flaky) } : {}),
          logger: context.logger(),
          until: Promise.race([once(process, "SIGINT"), once(process, "SIGTERM")]).then(() => {}),
          ready: (info) => {
            context.io.stdout.write(
              `Outpost demo running (state in ${info.dir}, turbine simulator on ${info.modbus}).\n` +
                `Status page: ${info.statusUrl}\nCtrl-C stops everything.\n`,
            );
          },
        });
      },
    );
};

/** `--flaky` alone, or `--flaky UP/DOWN` in whole seconds. */
function flakyCycle(value: boolean | string): { upMs: number; downMs: number } {
  if (value === true) return { upMs: 30_000, downMs: 20_000 };
  const m = /^([1-9][0-9]{0,4})\/([1-9][0-9]{0,4})$/.exec(String(value));
  if (!m)
    throw new UsageError(
      `--flaky '${value}': must be UP/DOWN in whole seconds, e.g. 30/20 (up 30 s, down 20 s)`,
    );
  return { upMs: Number(m[1]) * 1000, downMs: Number(m[2]) * 1000 };
}
