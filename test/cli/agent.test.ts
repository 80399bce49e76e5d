import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isKeyText, publicKeyOf } from "../../protocol/index.js";
import { runOutpost } from "../helpers/run-outpost.js";

describe("outpost agent key / start", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-agent-cli-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("prints the public key of the pair it creates in --data, the same one every time", () => {
    const first = runOutpost(["agent", "key", "--data", dir]);
    assert.equal(first.status, 0, first.stderr);
    const key = first.stdout.trim();
    assert.ok(isKeyText(key));
    assert.equal(publicKeyOf(readFileSync(join(dir, "node.key"), "utf8").trim()), key);
    assert.equal(runOutpost(["agent", "key", "--data", dir]).stdout.trim(), key);
  });

  it("exits 2 with one line naming the missing --data", () => {
    const result = runOutpost(["agent", "key"]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^outpost: .*--data <dir>.*\n$/);
  });

  const key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
  for (const [what, args, message] of [
    [
      "a master that is not tcp://HOST:PORT",
      ["--master", "http://x:1", "--master-key", key],
      /--master: 'http:\/\/x:1' is not tcp:\/\/HOST:PORT/,
    ],
    [
      "a list of masters with a bad entry, naming it",
      ["--master", "tcp://10.0.0.1:5660,tcp://10.0.0.2", "--master-key", key],
      /--master: entry 2 'tcp:\/\/10\.0\.0\.2' is not tcp:\/\/HOST:PORT/,
    ],
    [
      "a list of masters naming one twice",
      ["--master", "tcp://a:5660,tcp://b:5660,tcp://a:5660", "--master-key", key],
      /--master: entry 3 'tcp:\/\/a:5660' repeats entry 1/,
    ],
    [
      "a master key that is not Z85",
      ["--master", "tcp://127.0.0.1:1", "--master-key", "short"],
      /--master-key: expected the master's 40-character Z85 public key/,
    ],
    [
      "a partition count out of range",
      ["--master", "tcp://127.0.0.1:1", "--master-key", key, "--partitions", "0"],
      /--partitions.*1 to 254/,
    ],
    [
      "a --limit that is not KIND.KEY=VALUE",
      ["--master", "tcp://127.0.0.1:1", "--master-key", key, "--limit", "memory=1Gi"],
      /--limit: expected KIND\.KEY=VALUE \(e\.g\. instance\.memory=1Gi\), got 'memory=1Gi'/,
    ],
    [
      "a --limit whose value is not a size",
      ["--master", "tcp://127.0.0.1:1", "--master-key", key, "--limit", "instance.disk=lots"],
      /limit instance\.disk: 'lots' is not a size \(e\.g\. 512Mi\) or max/,
    ],
    [
      "a --limit a build does not have",
      ["--master", "tcp://127.0.0.1:1", "--master-key", key, "--limit", "build.disk=1Gi"],
      /limit build\.disk: unknown \(memory, pids, cpu, open-files\)/,
    ],
  ] as const) {
    it(`start refuses ${what} with exit 2 and one line`, () => {
      const result = runOutpost(["agent", "start", "--data", dir, ...args]);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split("\n").length, 1);
    });
  }

  it("start --config: refuses an unknown key naming file, line and a did-you-mean", () => {
    const config = join(dir, "agent.yaml");
    writeFileSync(
      config,
      `data: ${dir}\nmaster: tcp://127.0.0.1:1\nmaster-key: "${key}"\nfile-roots: [/srv]\n`,
    );
    const result = runOutpost(["agent", "start", "--config", config]);
    assert.equal(result.status, 1, result.stderr);
    assert.match(
      result.stderr,
      /agent\.yaml:4:1: file-roots: unknown key; did you mean 'file-root'\?/,
    );
  });

  it("start --config: refuses a misspelt limit naming file, line and a did-you-mean", () => {
    const config = join(dir, "limits.yaml");
    writeFileSync(
      config,
      `data: ${dir}\nmaster: tcp://127.0.0.1:1\nmaster-key: "${key}"\nlimits:\n  instance:\n    memroy: 1Gi\n`,
    );
    const result = runOutpost(["agent", "start", "--config", config]);
    assert.equal(result.status, 1, result.stderr);
    assert.match(
      result.stderr,
      /limits\.yaml:6:5: limits\.instance\.memroy: unknown key; did you mean 'memory'\?/,
    );
  });

  it("start --config: a setting missing from both the file and the flags is named", () => {
    const config = join(dir, "partial.yaml");
    writeFileSync(config, `data: ${dir}\nfile-root: [/srv/releases]\n`);
    const result = runOutpost(["agent", "start", "--config", config]);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /--master is required \(flag or '.*partial\.yaml'\)/);
  });

  it("start refuses a --file-root that is not absolute", () => {
    const result = runOutpost(["agent", "start", "--data", dir, "--file-root", "rel/dir"]);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /--file-root.*absolute directory/);
  });
});
