import { closeSync, constants as fs, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";

/** Node's write errors carry no path; a cgroup write error must say which file. */
function withPath(err: unknown, path: string): unknown {
  if (err instanceof Error && (err as NodeJS.ErrnoException).path === undefined) {
    (err as NodeJS.ErrnoException).path = path;
    err.message = `${err.message} '${path}'`;
  }
  return err;
}

/**
 * Writes one value to a cgroup interface file. O_WRONLY without O_CREAT: a missing
 * file means a controller that is not there, which must fail (ENOENT) rather than
 * create a plain file. One write(2): cgroupfs takes a value per write.
 */
export function writeControl(dir: string, file: string, value: string): void {
  const path = join(dir, file);
  let fd: number;
  try {
    fd = openSync(path, fs.O_WRONLY);
  } catch (err) {
    throw withPath(err, path);
  }
  try {
    writeSync(fd, value);
  } catch (err) {
    throw withPath(err, path);
  } finally {
    closeSync(fd);
  }
}

export function readControl(dir: string, file: string): string {
  return readFileSync(join(dir, file), "utf8").trim();
}

/** Like readControl, undefined when the file does not exist (controller absent). */
export function readControlIfPresent(dir: string, file: string): string | undefined {
  try {
    return readControl(dir, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
