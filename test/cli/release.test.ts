import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot, runOutpost } from "../helpers/run-outpost.js";

describe("outpost release check / reference", function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-release-cli-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("passes the example release", () => {
    const file = join(repoRoot, "test", "fixtures", "echo", "software.yaml");
    const result = runOutpost(["release", "check", file]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, `${file}: ok (echo 1.0.0)\n`);
  });

  it("names each problem with its line, column and key, and exits 1", () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(
      file,
      [
        "apiVersion: outpost/v1",
        "name: Bad_Name",
        "version: 1.0.0",
        "instance:",
        "  processes:",
        "    - name: server",
        '      comand: ["x"]',
        "",
      ].join("\n"),
    );
    const result = runOutpost(["release", "check", file]);
    assert.equal(result.status, 1);
    const lines = result.stderr.trim().split("\n");
    assert.deepEqual(lines, [
      `${file}:2:7: name: must match pattern "^[a-z0-9][a-z0-9-]{0,62}$"`,
      `${file}:6:7: instance.processes[0].command: required key is missing`,
      `${file}:7:7: instance.processes[0].comand: unknown key; did you mean 'command'?`,
    ]);
    const json = JSON.parse(runOutpost(["release", "check", file, "--json"]).stdout);
    assert.equal(json.ok, false);
    assert.equal(json.problems.length, 3);
  });

  it("refuses a secret parameter in a command line, naming the process and the parameter", () => {
    const file = join(dir, "secret.yaml");
    writeFileSync(
      file,
      [
        "apiVersion: outpost/v1",
        "name: db",
        "version: '1'",
        "instance:",
        "  parameters:",
        "    properties:",
        "      password: { type: string, x-outpost-secret: true }",
        "  processes:",
        "    - name: server",
        '      command: ["/bin/db", "--password={{params.password}}"]',
        "",
      ].join("\n"),
    );
    const result = runOutpost(["release", "check", file]);
    assert.equal(result.status, 1);
    assert.equal(
      result.stderr,
      `${file}: instance.processes[0].command[1]: process 'server' puts secret parameter 'password' in its command line: a command line is readable by every process on the node (/proc/PID/cmdline); pass it in env or in a file\n`,
    );
    const ok = file.replace("secret.yaml", "secret-env.yaml");
    writeFileSync(
      ok,
      [
        "apiVersion: outpost/v1",
        "name: db",
        "version: '1'",
        "instance:",
        "  parameters:",
        "    properties:",
        "      password: { type: string, x-outpost-secret: true }",
        "  processes:",
        "    - name: server",
        '      command: ["/bin/db"]',
        '      env: { DB_PASSWORD: "{{params.password}}" }',
        "",
      ].join("\n"),
    );
    assert.equal(runOutpost(["release", "check", ok]).status, 0, "in env it is fine");
  });

  it("names a parameters schema that is not JSON Schema", () => {
    const file = join(dir, "params.yaml");
    writeFileSync(
      file,
      "apiVersion: outpost/v1\nname: p\nversion: '1'\ninstance:\n  parameters: { type: nonsense }\n",
    );
    const result = runOutpost(["release", "check", file]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /instance\.parameters/);
  });

  it("prints the reference", () => {
    const result = runOutpost(["release", "reference"]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^# Software release descriptor/);
  });
});
