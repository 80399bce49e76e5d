import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CodedAbortError,
  CodedError,
  CodedRangeError,
  CodedTypeError,
  hasCode,
} from "../../common/errors.js";
import { repoRoot } from "../helpers/run-outpost.js";

class SampleError extends CodedError {
  readonly code = "E_SAMPLE";
  constructor(readonly where: string) {
    super(`sample at ${where}`);
  }
}

class SampleTypeError extends CodedTypeError {
  readonly code = "E_SAMPLE_TYPE";
}

class SampleRangeError extends CodedRangeError {
  readonly code = "E_SAMPLE_RANGE";
}

class SampleAbortedError extends CodedAbortError {}

/** Every `.ts` file of the components (not tests, not node_modules, not the build). */
function sources(dir = repoRoot): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory())
      return ["node_modules", "dist", "test", "build", ".git"].includes(e.name)
        ? []
        : sources(join(dir, e.name));
    return e.name.endsWith(".ts") ? [join(dir, e.name)] : [];
  });
}

describe("common errors: one shape, matched on code", () => {
  it("names an error after its class, set once in the base, and keeps the built-in base", () => {
    const e = new SampleError("x");
    assert.equal(e.name, "SampleError");
    assert.equal(String(e), "SampleError: sample at x");
    assert.equal(new SampleTypeError("t").name, "SampleTypeError");
    assert.ok(new SampleTypeError("t") instanceof TypeError);
    assert.ok(new SampleRangeError("r") instanceof RangeError);
    const aborted = new SampleAbortedError("stopped", { cause: "signal" });
    assert.deepEqual(
      [aborted.name, aborted.code, aborted.cause],
      ["AbortError", "ABORT_ERR", "signal"],
    );
  });

  it("hasCode matches an Error by code, one of several codes, and nothing else", () => {
    const e: unknown = new SampleError("y");
    assert.equal(hasCode(e, "E_SAMPLE"), true);
    assert.equal(hasCode(e, "E_OTHER", "E_SAMPLE"), true);
    assert.equal(hasCode(e, "E_OTHER"), false);
    assert.equal(hasCode({ code: "E_SAMPLE" }, "E_SAMPLE"), false, "not an Error");
    assert.equal(hasCode(undefined, "E_SAMPLE"), false);
    if (hasCode<SampleError>(e, "E_SAMPLE")) assert.equal(e.where, "y");
  });

  it("no error class sets its name by hand, and docs/errors.md lists every code and class", () => {
    const docs = readFileSync(join(repoRoot, "docs", "errors.md"), "utf8");
    const missing: string[] = [];
    for (const file of sources()) {
      const text = readFileSync(file, "utf8");
      if (!file.endsWith(join("common", "errors.ts")))
        assert.doesNotMatch(text, /this\.name = "/, `${file} sets this.name by hand`);
      for (const m of text.matchAll(
        /class (\w+) extends \w+ \{\n(?:(?!.*class ).*\n)*?\s+(?:override )?readonly code = "(\w+)"/g,
      )) {
        const [, cls, code] = m;
        if (!docs.includes(`\`${code}\``)) missing.push(`${code} (${cls})`);
        if (!docs.includes(`\`${cls}\``)) missing.push(`${cls} (${code})`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
