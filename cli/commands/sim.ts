import { once } from "node:events";
import { printState, withJsonOption } from "../output.js";
import type { RegisterCommand } from "../program.js";
import { UsageError } from "../usage-error.js";
import { loadCollector } from "./collector.js";

/** `outpost sim turbine`: a wind turbine on Modbus TCP and OPC-UA, for commissioning and tests. */
export const registerSim: RegisterCommand = (program, context) => {
  const sim = program.command("sim").description("device simulators");
  withJsonOption(
    sim
      .command("turbine")
      .description(
        "serve a simulated wind turbine (seeded signals) over Modbus TCP and OPC-UA until SIGINT/SIGTERM; prints where it listens",
      )
      .option("--modbus <host:port>", "Modbus TCP listen address (port 0: any free port)")
      .option("--opcua <port>", "OPC-UA listen port on 127.0.0.1 (0: any free port)")
      .option("--seed <n>", "random seed: the same seed gives the same signals", "1")
      .option("--tags <n>", "extra changing registers/variables (benchmarks)", "0")
      .option("--data-dir <dir>", "where the OPC-UA server keeps its PKI", "/var/lib/outpost/sim"),
  ).action(
    async (opts: {
      modbus?: string;
      opcua?: string;
      seed: string;
      tags: string;
      dataDir: string;
      json?: boolean;
    }) => {
      if (opts.modbus === undefined && opts.opcua === undefined) {
        throw new UsageError("sim turbine: give --modbus HOST:PORT, --opcua PORT, or both");
      }
      const seed = integer("--seed", opts.seed, 0, 2 ** 32 - 1);
      const extraTags = integer("--tags", opts.tags, 0, 50_000);
      let modbus: { host: string; port: number } | undefined;
      if (opts.modbus !== undefined) {
        const m = /^([^\s:]+):(\d{1,5})$/.exec(opts.modbus);
        if (!m) throw new UsageError(`--modbus '${opts.modbus}': expected HOST:PORT`);
        modbus = { host: m[1] as string, port: integer("--modbus port", m[2] as string, 0, 65535) };
      }
      const opcua =
        opts.opcua === undefined
          ? undefined
          : { port: integer("--opcua", opts.opcua, 0, 65535), dataDir: opts.dataDir };
      const { startTurbineSim } = await loadCollector(context);
      const running = await startTurbineSim({ seed, modbus, opcua, extraTags });
      const state = {
        seed,
        modbus: running.modbus ? `${running.modbus.host}:${running.modbus.port}` : null,
        opcua: running.opcua?.endpoint ?? null,
      };
      printState(context.io, opts, state, (s) =>
        [`turbine seed ${s.seed}`, `modbus ${s.modbus ?? "off"}`, `opcua ${s.opcua ?? "off"}`].join(
          "\n",
        ),
      );
      await Promise.race([once(process, "SIGINT"), once(process, "SIGTERM")]);
      await running.stop();
    },
  );
};

function integer(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new UsageError(`${flag} '${text}': must be an integer from ${min} to ${max}`);
  }
  return n;
}
