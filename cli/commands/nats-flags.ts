import { readFileSync, statSync } from "node:fs";
import { UsageError } from "../usage-error.js";

/** `--nats-token-file`, spelt the same by every command that talks to NATS. */
export const NATS_TOKEN_FLAG = "--nats-token-file <file>";
export const NATS_TOKEN_HELP =
  "file (mode 0600) holding the NATS login token, when the servers ask for one (env OUTPOST_NATS_TOKEN holds the token itself); never in the URL";

/**
 * The NATS token: the file's content (refused when group or others may read it: it is a
 * secret), else OUTPOST_NATS_TOKEN, else none.
 */
export function natsToken(flags: { natsTokenFile?: string }): string | undefined {
  const file = flags.natsTokenFile;
  if (file === undefined) return process.env.OUTPOST_NATS_TOKEN?.trim() || undefined;
  let token: string;
  try {
    if ((statSync(file).mode & 0o077) !== 0)
      throw new UsageError(
        `--nats-token-file: ${file} may be read by group or others; chmod 600 ${file}`,
      );
    token = readFileSync(file, "utf8").trim();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(
      `--nats-token-file: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? err})`,
    );
  }
  if (token === "") throw new UsageError(`--nats-token-file: ${file} is empty`);
  return token;
}
