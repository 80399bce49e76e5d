import { spawn } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TelemetryRecord } from "../../collector/record.js";
import {
  RECORD_SCHEMA_FINGERPRINT,
  RECORD_SCHEMA_TEXT,
  recordChunk,
} from "../helpers/record-chunks.js";
import { builtCli } from "../helpers/run-outpost.js";
import { eventually } from "../helpers/until.js";
import type { MasterHarness } from "../master/master-harness.js";

/** A file of `content` with `mode` in `dir`: a token, seed or key as an operator keeps it. */
export function secretFile(dir: string, name: string, content: string, mode: number): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  chmodSync(file, mode);
  return file;
}

/**
 * Node gw-1 on the harness's master, its schema given; each call of the function returned
 * sends one more chunk of one reading of device `d` (chunk ids from `firstChunk`).
 */
export async function publishingNode(
  h: MasterHarness,
  firstChunk = 1,
): Promise<() => Promise<unknown>> {
  const link = h.link(await h.addNode("gw-1"));
  await link.sendSchema({ fingerprint: RECORD_SCHEMA_FINGERPRINT, schema: RECORD_SCHEMA_TEXT });
  const record: TelemetryRecord = {
    device: "d",
    tag: "t",
    ts: Date.now(),
    value: 7,
    quality: "good",
  };
  let id = firstChunk;
  return () => {
    const { node: _node, receivedAt: _at, ...wire } = recordChunk("-", id++, [record]);
    return link.send(wire);
  };
}

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
