import { execFile, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

let compiled = false;

/**
 * dist/ brought up to the current sources, once per test process: incrementally, as
 * `npm run build` does (seconds when nothing changed). Child processes that start the
 * CLI many times run it from dist/ as an operator does: a start under tsx costs about a
 * second more.
 */
export function ensureDist(): void {
  // A test process whose parent brought dist/ up to date says so (a VM running the host's
  // tree read-only, where a compile under emulation would take minutes).
  if (compiled || process.env.OUTPOST_TEST_DIST === "ready") return;
  const tsc = createRequire(join(repoRoot, "package.json")).resolve("typescript/bin/tsc");
  const build = spawnSync(
    process.execPath,
    [tsc, "-p", "tsconfig.json", "--incremental", "--tsBuildInfoFile", "dist/.tsbuildinfo"],
    { cwd: repoRoot, encoding: "utf8" },
  );
  if (build.status !== 0) throw new Error(`tsc failed:\n${build.stdout}${build.stderr}`);
  compiled = true;
}

// A test file that runs the CLI pays the compile in a root hook of its own time, not in
// the first test that happens to start the CLI.
if (typeof before === "function") {
  before(function () {
    this.timeout(300_000);
    ensureDist();
  });
}

/** The built CLI's entry, dist/ up to date. */
export function builtCli(): string {
  ensureDist();
  return join(repoRoot, "dist", "cli", "main.js");
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `outpost` CLI (dist/ up to date with the sources) in a real child process, as a user would. */
export function runOutpost(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {},
): CliResult {
  const result = spawnSync(process.execPath, [builtCli(), ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    input: options.input,
    encoding: "utf8",
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * `runOutpost` without blocking this process's event loop: for a master or agent that
 * runs inside the test process and must answer the CLI meanwhile.
 */
export function runOutpostAsync(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [builtCli(), ...args],
      {
        cwd: options.cwd ?? repoRoot,
        env: { ...process.env, ...options.env },
        encoding: "utf8",
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") reject(error);
        else resolve({ status: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}
