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
    .option("--flaky", "put a link that goes down on a cycle between agent and master")
    .action(async (options: { dir?: string; http: string; flaky?: boolean }) => {
      const dir =
        options.dir ?? (process.getuid?.() === 0 ? "/var/lib/outpost-demo" : "outpost-demo");
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
        flaky: options.flaky === true,
        logger: context.logger(),
        until: Promise.race([once(process, "SIGINT"), once(process, "SIGTERM")]).then(() => {}),
        ready: (info) => {
          context.io.stdout.write(
            `Outpost demo running (state in ${info.dir}, turbine simulator on ${info.modbus}).\n` +
              `Status page: ${info.statusUrl}\nCtrl-C stops everything.\n`,
          );
        },
      });
    });
};
