import { readFileSync, statSync } from "node:fs";
import type { Command } from "commander";
import type { NatsLogin } from "../../master/index.js";
import { UsageError } from "../usage-error.js";

/** The login and TLS flags of NATS, spelt the same by every command that talks to NATS. */
export interface NatsLoginFlags {
  natsTokenFile?: string;
  natsNkeyFile?: string;
  natsCa?: string;
  natsCert?: string;
  natsKey?: string;
}

export function addNatsLoginOptions(command: Command): Command {
  return command
    .option(
      "--nats-token-file <file>",
      "file (mode 0600) holding the NATS login token, when the servers ask for one (env OUTPOST_NATS_TOKEN holds the token itself); never in the URL",
    )
    .option(
      "--nats-nkey-file <file>",
      "file (mode 0600) holding a NATS user nkey seed (SU…), for servers that list users by nkey",
    )
    .option(
      "--nats-ca <file>",
      "PEM CA certificates the NATS servers' TLS certificates must chain to; turns TLS on",
    )
    .option(
      "--nats-cert <file>",
      "PEM client certificate, for NATS servers that verify clients (with --nats-key)",
    )
    .option("--nats-key <file>", "PEM key of --nats-cert (mode 0600)");
}

/**
 * The login and TLS of the flags. Secrets (token, seed, client key) are read from files
 * that group and others cannot read; the token may come from OUTPOST_NATS_TOKEN instead.
 * Each refusal names the flag and the file, never the secret.
 */
export async function natsLogin(flags: NatsLoginFlags): Promise<NatsLogin> {
  const token =
    flags.natsTokenFile === undefined
      ? process.env.OUTPOST_NATS_TOKEN?.trim() || undefined
      : readFlagFile("--nats-token-file", flags.natsTokenFile, true).trim();
  if (token === "") throw new UsageError(`--nats-token-file: ${flags.natsTokenFile} is empty`);
  let nkeySeed: string | undefined;
  if (flags.natsNkeyFile !== undefined) {
    if (flags.natsTokenFile !== undefined)
      throw new UsageError(
        "--nats-token-file and --nats-nkey-file: a NATS user logs in by one of them",
      );
    nkeySeed = readFlagFile("--nats-nkey-file", flags.natsNkeyFile, true).trim();
    const { checkNkeySeed } = await import("../../master/index.js");
    try {
      checkNkeySeed(nkeySeed, `--nats-nkey-file: ${flags.natsNkeyFile}`);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  if ((flags.natsCert === undefined) !== (flags.natsKey === undefined))
    throw new UsageError("--nats-cert and --nats-key: give both, or neither");
  const ca = flags.natsCa === undefined ? undefined : pem("--nats-ca", flags.natsCa, "CERTIFICATE");
  const cert =
    flags.natsCert === undefined ? undefined : pem("--nats-cert", flags.natsCert, "CERTIFICATE");
  const key =
    flags.natsKey === undefined ? undefined : pem("--nats-key", flags.natsKey, "PRIVATE KEY", true);
  const tls =
    ca === undefined && cert === undefined
      ? undefined
      : {
          ...(ca !== undefined ? { ca } : {}),
          ...(cert !== undefined && key !== undefined ? { cert, key } : {}),
        };
  return {
    ...(token !== undefined && nkeySeed === undefined ? { token } : {}),
    ...(nkeySeed !== undefined ? { nkeySeed } : {}),
    ...(tls !== undefined ? { tls } : {}),
  };
}

/** A file's PEM text, holding at least one block of `label` (`-----BEGIN … label-----`). */
function pem(flag: string, file: string, label: string, secret = false): string {
  const text = readFlagFile(flag, file, secret);
  if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(text))
    throw new UsageError(`${flag}: ${file} holds no PEM ${label.toLowerCase()}`);
  return text;
}

function readFlagFile(flag: string, file: string, secret: boolean): string {
  try {
    if (secret && (statSync(file).mode & 0o077) !== 0)
      throw new UsageError(`${flag}: ${file} may be read by group or others; chmod 600 ${file}`);
    return readFileSync(file, "utf8");
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(
      `${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? err})`,
    );
  }
}
