import { strict as assert } from "node:assert";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { createLogger } from "../../cli/logger.js";

describe("createLogger", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-logger-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function logTo(pretty: boolean): string {
    const file = join(dir, "log");
    const fd = openSync(file, "w");
    const logger = createLogger({ level: "info", pretty, fd });
    logger.info({ chunk: 7 }, "chunk.sealed");
    logger.debug("below.level");
    closeSync(fd);
    return readFileSync(file, "utf8");
  }

  it("writes one NDJSON event per line with a stable event name", () => {
    const lines = logTo(false).trim().split("\n");
    assert.equal(lines.length, 1, "debug is below the level");
    const event = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
    assert.equal(event.event, "chunk.sealed");
    assert.equal(event.chunk, 7);
    assert.equal(event.level, 30);
  });

  it("writes one short line per event when pretty: time, level, event, the plain fields", () => {
    const text = stripVTControlCharacters(logTo(true));
    assert.match(text, /^\[\d\d:\d\d:\d\d\] INFO: chunk\.sealed chunk=7\n$/);
    assert.throws(() => JSON.parse(text));
  });

  it("keeps a pretty line short: an error's first line, at most six fields, long values cut", () => {
    const file = join(dir, "log");
    const fd = openSync(file, "w");
    const logger = createLogger({ level: "info", pretty: true, fd });
    logger.warn(
      {
        err: new Error("boom\nstack"),
        a: 1,
        b: 2,
        c: 3,
        d: 4,
        e: 5,
        f: 6,
        g: 7,
        long: "x".repeat(200),
      },
      "instance.failed",
    );
    closeSync(fd);
    const text = stripVTControlCharacters(readFileSync(file, "utf8"));
    assert.equal(text.trim().split("\n").length, 1);
    assert.match(text, /WARN: instance\.failed err=boom a=1 b=2 c=3 d=4 e=5\n$/);
  });
});
