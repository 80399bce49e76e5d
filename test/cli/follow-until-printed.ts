import { spawn } from "node:child_process";
import { builtCli } from "../helpers/run-outpost.js";
import { eventually } from "../helpers/until.js";

/**
 * Runs `outpost telemetry follow ARGS` and calls `publish` every 500 ms until the
 * follower prints a line holding `printed` (it sees only what is published after it
 * started); then stops it with SIGTERM. Resolves with its exit status and stderr.
 */
export async function followUntilPrinted(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  publish: () => Promise<unknown>,
  printed: string,
): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, [builtCli(), "telemetry", "follow", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let out = "";
  let stderr = "";
  child.stdout?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  try {
    await eventually(
      "a reading followed",
      30_000,
      async () => {
        if (child.exitCode !== null) throw new Error(`follow exited: ${stderr}`);
        await publish();
        return out.includes(printed) ? true : undefined;
      },
      500,
    );
  } finally {
    child.kill("SIGTERM");
  }
  return { status: await exited, stderr };
}
