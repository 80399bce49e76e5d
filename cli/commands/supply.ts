import type { RegisterCommand } from "../program.js";
import { masterClient, withMasterOptions } from "./master-client.js";

/** `outpost supply SOFTWARE_URL --node NAME`: a node must install this software. */
export const registerSupply: RegisterCommand = (program, context) => {
  withMasterOptions(
    program
      .command("supply <software-url>")
      .description("supply a software release to a node (it installs it on its next sync)")
      .requiredOption("--node <name>", "the node to install it on"),
  ).action(
    async (software: string, options: { node: string; master?: string; tokenFile?: string }) => {
      await (await masterClient(options)).supply(options.node, software);
      context.io.stdout.write(`supplied ${software} to ${options.node}\n`);
    },
  );
};
