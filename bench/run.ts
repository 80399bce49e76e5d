import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * `npm run bench -- NAME [ARGS…]`: runs the built bench/NAME, passes its output through,
 * and fails unless its last line is the JSON object every bench must print.
 */
const here = dirname(fileURLToPath(import.meta.url));
const benches = readdirSync(here)
  .filter((f) => f.endsWith(".js") && f !== "run.js")
  .map((f) => f.slice(0, -3));

const [name, ...args] = process.argv.slice(2);
if (!name || !existsSync(join(here, `${name}.js`)) || !benches.includes(name)) {
  process.stderr.write(
    `outpost bench: ${name ? `unknown bench '${name}'` : "no bench named"}; available: ${benches.join(", ")}\n`,
  );
  process.exit(2);
}

const child = spawn(process.execPath, [join(here, `${name}.js`), ...args], {
  stdio: ["inherit", "pipe", "inherit"],
});
// Only a trailing unfinished line is carried between chunks, so a result line that
// arrives in a chunk of its own is read whole.
let pending = "";
let last = "";
child.stdout.on("data", (chunk: Buffer) => {
  process.stdout.write(chunk);
  const lines = (pending + chunk.toString("utf8")).split("\n");
  pending = lines.pop() ?? "";
  for (const line of lines) if (line.trim() !== "") last = line;
});
child.on("close", (code) => {
  if (code !== 0) process.exit(code ?? 1);
  if (pending.trim() !== "") last = pending;
  try {
    const result = JSON.parse(last) as Record<string, unknown>;
    for (const key of ["name", "ours", "baseline", "unit", "ratio"]) {
      if (!(key in result)) throw new Error(`missing '${key}'`);
    }
  } catch (err) {
    process.stderr.write(
      `outpost bench: ${name}'s last line is not a valid result (${(err as Error).message})\n`,
    );
    process.exit(1);
  }
});
