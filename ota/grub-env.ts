import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";
import { SlotEnvError } from "./errors.js";

/** A GRUB environment block is exactly this long; GRUB rewrites it in place. */
export const GRUB_ENV_SIZE = 1024;
const HEADER = "# GRUB Environment Block\n";

/** Parses a GRUB environment block (`grub-editenv`'s format): `name=value` lines, `#` padding. */
export function parseGrubEnv(text: string, file: string): Map<string, string> {
  if (!text.startsWith(HEADER)) throw new SlotEnvError(file, "not a GRUB environment block");
  const vars = new Map<string, string>();
  for (const line of text.slice(HEADER.length).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) throw new SlotEnvError(file, `malformed line '${line.slice(0, 40)}'`);
    vars.set(line.slice(0, eq), line.slice(eq + 1).replace(/\\(.)/g, "$1"));
  }
  return vars;
}

/** Renders a block of exactly GRUB_ENV_SIZE bytes; throws if the variables do not fit. */
export function renderGrubEnv(vars: ReadonlyMap<string, string>, file: string): Buffer {
  let body = HEADER;
  for (const [name, value] of [...vars].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new SlotEnvError(file, `bad name '${name}'`);
    body += `${name}=${value.replace(/([\\\n])/g, "\\$1")}\n`;
  }
  const bytes = Buffer.from(body, "utf8");
  if (bytes.length > GRUB_ENV_SIZE)
    throw new SlotEnvError(
      file,
      `variables take ${bytes.length} bytes, more than ${GRUB_ENV_SIZE}`,
    );
  return Buffer.concat([bytes, Buffer.alloc(GRUB_ENV_SIZE - bytes.length, "#")]);
}

export function readGrubEnv(file: string): Map<string, string> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new SlotEnvError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  if (bytes.length !== GRUB_ENV_SIZE)
    throw new SlotEnvError(file, `is ${bytes.length} bytes, a GRUB env block is ${GRUB_ENV_SIZE}`);
  return parseGrubEnv(bytes.toString("utf8"), file);
}

/**
 * Rewrites the block in place and fsyncs it. In place, not by rename: GRUB's save_env
 * writes the file's own sectors, so the file must keep its blocks on the ESP.
 */
export function writeGrubEnv(file: string, vars: ReadonlyMap<string, string>): void {
  const bytes = renderGrubEnv(vars, file);
  let fd: number;
  try {
    fd = openSync(file, "r+");
  } catch (err) {
    throw new SlotEnvError(file, `cannot open (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  try {
    writeSync(fd, bytes, 0, bytes.length, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
