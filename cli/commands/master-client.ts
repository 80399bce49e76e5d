import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { MasterClient } from "../../master/index.js";
import { UsageError } from "../usage-error.js";

export const DEFAULT_MASTER_URL = "http://127.0.0.1:5661";

/** The flags every client command of the master takes, spelt the same everywhere. */
export function withMasterOptions(command: Command): Command {
  return command
    .option("--master <url>", `master HTTP API (env OUTPOST_MASTER, default ${DEFAULT_MASTER_URL})`)
    .option(
      "--token-file <file>",
      "file holding the admin token (env OUTPOST_TOKEN holds the token itself)",
    );
}

export interface MasterClientOptions {
  master?: string;
  tokenFile?: string;
}

/** A client for the master named by the flags or the environment; the master module loads only here. */
export async function masterClient(options: MasterClientOptions): Promise<MasterClient> {
  const url = options.master ?? process.env.OUTPOST_MASTER ?? DEFAULT_MASTER_URL;
  if (!/^https?:\/\/[^/]+/.test(url)) {
    throw new UsageError(`--master: expected an http:// or https:// URL, got '${url}'`);
  }
  let token: string | undefined;
  if (options.tokenFile !== undefined) {
    try {
      token = readFileSync(options.tokenFile, "utf8").trim();
    } catch (err) {
      throw new UsageError(
        `--token-file: cannot read ${options.tokenFile} (${(err as NodeJS.ErrnoException).code ?? err})`,
      );
    }
  } else {
    token = process.env.OUTPOST_TOKEN?.trim();
  }
  if (!token) {
    throw new UsageError(
      "no admin token: pass --token-file DATA_DIR/admin.token or set OUTPOST_TOKEN",
    );
  }
  const { MasterClient } = await import("../../master/index.js");
  return new MasterClient(url, token);
}
