import { readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BufferLockedError } from "./errors.js";

/**
 * One writer per buffer directory: `lock` holds the owner's pid. A lock left by a dead
 * process (kill -9, power cut) is taken over; so is one naming this process when no
 * buffer here holds it (a test reopening after a simulated power cut).
 */
const heldHere = new Set<string>();

export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, "lock");
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: "wx" });
      heldHere.add(path);
      return async () => {
        heldHere.delete(path);
        await unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const pid = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
    if (
      Number.isInteger(pid) &&
      pid > 0 &&
      isAlive(pid) &&
      (pid !== process.pid || heldHere.has(path))
    ) {
      throw new BufferLockedError(dir, pid);
    }
    await unlink(path).catch(() => undefined);
  }
  throw new BufferLockedError(dir, 0);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
