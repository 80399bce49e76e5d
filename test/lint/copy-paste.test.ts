import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const repoRoot = join(import.meta.dirname, "..", "..");
const jscpd = join(repoRoot, "node_modules", ".bin", "jscpd");
const config = JSON.parse(readFileSync(join(repoRoot, ".jscpd.json"), "utf8")) as {
  path: string[];
  ignore: string[];
};

/** Folders at the top that hold no component's production code. */
const NOT_COMPONENTS = new Set(["test", "bench", "docs", "node_modules", "dist", "build"]);

/** Ignore entries that name one file: the listed exceptions (the rest are `**` globs). */
const exceptions = config.ignore.filter((entry) => !entry.startsWith("**/"));

/** `lines` lines of one block, enough tokens per line to pass `minTokens` with six. */
const block = (lines: number) =>
  Array.from(
    { length: lines },
    (_, i) => `  acc.total += v[${i}] * w[${i}] - o[${i}] / (acc.seen + ${i});\n`,
  ).join("");

/** The block inside code that differs on both sides, so a clone is the block alone. */
const inAlpha = (body: string) =>
  `export function alpha(v: number[], w: number[], o: number[]): number {\n  const acc = { total: 0, seen: 1 };\n  if (v.length === 0) return -1;\n${body}  return acc.total;\n}\n`;
const inBeta = (body: string) =>
  `export function beta(v: number[], w: number[], o: number[]): number {\n  const acc = { total: 0, seen: 2 };\n  for (let k = 0; k < 1; k++) {\n${body}  }\n  return acc.total * 2;\n}\n`;

/** Runs the repository's jscpd config over a tree of files laid out like the repository. */
function check(files: Record<string, string>): { status: number | null; output: string } {
  const root = mkdtempSync(join(tmpdir(), "outpost-copy-paste-"));
  try {
    cpSync(join(repoRoot, ".jscpd.json"), join(root, ".jscpd.json"));
    for (const component of config.path) mkdirSync(join(root, component));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const run = spawnSync(jscpd, ["--no-colors"], { cwd: root, encoding: "utf8" });
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe("lint: copy-paste check (.jscpd.json)", function () {
  this.timeout(30_000);

  it("fails on a block of six lines shared by two components, naming both files", () => {
    const { status, output } = check({
      "agent/retry/loop.ts": inAlpha(block(6)),
      "collector/modbus/loop.ts": inBeta(block(6)),
    });
    assert.equal(status, 1, output);
    assert.match(output, /agent\/retry\/loop\.ts/);
    assert.match(output, /collector\/modbus\/loop\.ts/);
  });

  it("lets a block of five lines shared by two components pass", () => {
    const { status, output } = check({
      "agent/retry/loop.ts": inAlpha(block(5)),
      "collector/modbus/loop.ts": inBeta(block(5)),
    });
    assert.equal(status, 0, output);
  });

  it("leaves a copy between two folders of one component to review, not to lint", () => {
    const { status, output } = check({
      "agent/retry/loop.ts": inAlpha(block(12)),
      "agent/supervisor/loop.ts": inBeta(block(12)),
    });
    assert.equal(status, 0, output);
  });

  it("counts common/ as a component: a copy of a common helper fails too", () => {
    const { status, output } = check({
      "common/loop.ts": inAlpha(block(6)),
      "buffer/loop.ts": inBeta(block(6)),
    });
    assert.equal(status, 1, output);
  });

  it("scans every top-level folder that holds production TypeScript", () => {
    const folders = readdirSync(repoRoot, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith(".") && !NOT_COMPONENTS.has(e.name))
      .filter((e) => e.name !== "build-arm64")
      .map((e) => e.name)
      .filter((name) =>
        readdirSync(join(repoRoot, name), { recursive: true }).some((f) =>
          String(f).endsWith(".ts"),
        ),
      );
    assert.deepEqual([...config.path].sort(), folders.sort());
  });

  it("lists at most three exceptions, each an existing file with its reason in .jscpd-exceptions.md", () => {
    assert.ok(exceptions.length <= 3, `${exceptions.length} exceptions: ${exceptions.join(", ")}`);
    const reasons = readFileSync(join(repoRoot, ".jscpd-exceptions.md"), "utf8");
    for (const file of exceptions) {
      assert.ok(existsSync(join(repoRoot, file)), `${file} does not exist`);
      assert.match(
        reasons,
        new RegExp(`^- \`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\`: \\S`, "m"),
      );
    }
  });

  it("finds no copy between components in the repository", () => {
    const run = spawnSync(jscpd, ["--no-colors"], { cwd: repoRoot, encoding: "utf8" });
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  });
});
