import type { Writable } from "node:stream";

/** The streams a command writes to; tests pass their own to capture output. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  /** Whether stderr is a terminal: decides human-readable logs and progress bars. */
  isTty: boolean;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, isTty: process.stderr.isTTY === true };
}
