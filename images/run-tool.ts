import { spawn } from "node:child_process";
import { ImageToolError } from "./errors.js";

/**
 * Runs an external tool to completion with a fixed locale and the build's
 * SOURCE_DATE_EPOCH; resolves with its stdout, rejects with an ImageToolError, or with
 * the signal's AbortError once `signal` aborts (the tool is killed).
 */
export function runTool(
  tool: string,
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal; cwd?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, {
      env: { ...process.env, LC_ALL: "C", TZ: "UTC", ...options.env },
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      signal: options.signal,
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) =>
      reject(e.name === "AbortError" ? e : new ImageToolError(tool, args, e.message, null)),
    );
    child.on("close", (status) => {
      const stderr = Buffer.concat(err).toString("utf8");
      if (status === 0) resolve(Buffer.concat(out).toString("utf8"));
      else reject(new ImageToolError(tool, args, stderr, status));
    });
    if (child.stdin) {
      // A tool that exits before reading all its input reports that through its status.
      child.stdin.on("error", () => {});
      child.stdin.end(options.input);
    }
  });
}
