import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runOutpost } from "../helpers/run-outpost.js";

/** `collector run` with `output.forward` (the forwarding itself: test/agent/local-api/telemetry-relay). */
describe("outpost collector run: output.forward", function () {
  this.timeout(30_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-cli-forward-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function config(output: string): string {
    const file = join(dir, "collector.yaml");
    writeFileSync(
      file,
      [
        "devices:",
        "  - name: dead",
        '    modbus: { tcp: "127.0.0.1:1" }',
        "    tags:",
        "      - { name: wind, register: holding, address: 0, type: float32 }",
        `output: { buffer: ${join(dir, "buffer")}, ${output} }`,
        "",
      ].join("\n"),
    );
    return file;
  }

  it("`forward: agent` without OUTPOST_API fails with one line naming the key, before opening the buffer", () => {
    const file = config("forward: agent");
    const r = runOutpost(["collector", "run", "--config", file], { env: { OUTPOST_API: "" } });
    assert.equal(r.status, 1);
    const [line, ...rest] = r.stderr.split("\n");
    assert.deepEqual(rest, [""]);
    assert.ok(line?.startsWith(`outpost: ${file}:6:`), line);
    assert.ok(
      line?.endsWith(
        ": output.forward: 'agent' needs OUTPOST_API (the agent's local API socket, set for the processes it runs) [E_CONFIG]; fix that line of the file",
      ),
      line,
    );
    assert.ok(!existsSync(join(dir, "buffer")));
  });

  it("other values and misspelt keys stay config errors", () => {
    const master = runOutpost(["collector", "run", "--config", config("forward: master")]);
    assert.equal(master.status, 1);
    assert.match(
      master.stderr,
      /:6:\d+: output\.forward: must be one of: "agent" \[E_CONFIG\]; fix that line of the file\n$/,
    );
    const typo = runOutpost(["collector", "run", "--config", config("forwrd: agent")]);
    assert.equal(typo.status, 1);
    assert.match(
      typo.stderr,
      /:6:\d+: output\.forwrd: unknown key; did you mean 'forward'\? \[E_CONFIG\]; fix that line of the file\n$/,
    );
  });
});
