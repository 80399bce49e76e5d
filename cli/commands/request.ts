import { InvalidArgumentError } from "commander";
import type { RegisterCommand } from "../program.js";
import { masterClient, withMasterOptions } from "./master-client.js";

/** `outpost request SOFTWARE_URL INSTANCE [--node NAME] [--param key=value …] [--secret key …]`. */
export const registerRequest: RegisterCommand = (program, context) => {
  withMasterOptions(
    program
      .command("request <software-url> <instance>")
      .description(
        "request an instance of a software release; without --node the master picks a node that has the software and a free partition",
      )
      .option("--node <name>", "place the instance on this node")
      .option(
        "--no-wait",
        "refuse at once (E_MASTER_NO_CAPACITY) when no node can take it now, instead of keeping it waiting for a place",
      )
      .option("--param <key=value>", "an instance parameter (repeatable)", collectParam, {})
      .option(
        "--secret <key>",
        "never show this parameter's value, as for the release's x-outpost-secret ones (repeatable)",
        collectKey,
        [],
      ),
  ).action(
    async (
      software: string,
      instance: string,
      options: {
        node?: string;
        wait: boolean;
        param: Record<string, string>;
        secret: string[];
        master?: string;
        tokenFile?: string;
      },
    ) => {
      const placed = await (await masterClient(options)).request({
        name: instance,
        software,
        parameters: options.param,
        ...(options.secret.length > 0 ? { secrets: options.secret } : {}),
        wait: options.wait,
        ...(options.node ? { node: options.node } : {}),
      });
      if (placed.status === "waiting") {
        context.io.stdout.write(
          `requested ${placed.name}: waiting for a place (${placed.promises[0]?.message ?? "no node can take it yet"}); it is placed as soon as one is free\n`,
        );
        return;
      }
      const cores = placed.cores.length > 0 ? `, cores ${placed.cores.join(",")}` : "";
      context.io.stdout.write(
        `requested ${placed.name} on ${placed.node}, partition ${placed.partition}${cores}\n`,
      );
    },
  );
};

function collectParam(text: string, params: Record<string, string>): Record<string, string> {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got '${text}'`);
  const key = text.slice(0, eq);
  if (key in params) throw new InvalidArgumentError(`parameter '${key}' given twice`);
  return { ...params, [key]: text.slice(eq + 1) };
}

function collectKey(key: string, keys: string[]): string[] {
  // The text is not echoed: it may be KEY=VALUE with the secret in it.
  if (key.length === 0 || key.includes("="))
    throw new InvalidArgumentError(
      "expected a parameter name; its value goes in --param KEY=VALUE",
    );
  return keys.includes(key) ? keys : [...keys, key];
}
