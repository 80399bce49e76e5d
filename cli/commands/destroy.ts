import type { RegisterCommand } from "../program.js";
import { masterClient, withMasterOptions } from "./master-client.js";

/** `outpost destroy INSTANCE`: the node stops and removes it, then the master frees its place. */
export const registerDestroy: RegisterCommand = (program, context) => {
  withMasterOptions(
    program
      .command("destroy <instance>")
      .description("destroy an instance; its partition is freed once its node confirms"),
  ).action(async (name: string, options: { master?: string; tokenFile?: string }) => {
    const instance = await (await masterClient(options)).destroy(name);
    context.io.stdout.write(`destroying ${instance.name} on ${instance.node}\n`);
  });
};
