import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import {
  type AgentPaths,
  BuildFailedError,
  ChecksumMismatchError,
  type InstallOptions,
  installPaths,
  installSoftware,
  listBuildAccounts,
  openAgentDataDir,
  SoftwareStore,
} from "../../../agent/index.js";
import { repoRoot } from "../../helpers/run-outpost.js";

/** Pids of live (not zombie) processes whose command line holds `marker`, from /proc. */
function processesRunning(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (!/^State:\s+Z/m.test(status) && cmdline.includes(marker)) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

const fixture = join(repoRoot, "test", "fixtures", "echo");
const logger = pino({ level: "silent" });

describe("software install (real build as an unprivileged user)", function () {
  this.timeout(30_000);
  let tmp: string;
  let root: string;
  let paths: AgentPaths;
  let releases: string;
  const prefix = `otb${randomBytes(3).toString("hex")}-`;

  function opts(extra: Partial<InstallOptions> = {}): InstallOptions {
    return {
      root,
      records: paths.records,
      builds: paths.builds,
      buildAccountPrefix: prefix,
      access: { reader: "nobody", fileRoots: [], forbidden: [paths.dir] },
      logger,
      ...extra,
    };
  }

  /** A copy of the example release, its descriptor edited by `edit`; returns the descriptor path. */
  function release(name: string, edit: (text: string) => string = (t) => t): string {
    const dir = join(releases, name);
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(fixture, "echo.tar.gz"), join(dir, "echo.tar.gz"));
    const text = edit(readFileSync(join(fixture, "software.yaml"), "utf8"));
    writeFileSync(join(dir, "software.yaml"), text);
    return join(dir, "software.yaml");
  }

  function softwareEntries(): string[] {
    return readdirSync(root).filter((e) => !e.endsWith(".log"));
  }

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "outpost-agent-sw-"));
    // Like /var/lib: the build user must traverse the data directory's parents.
    chmodSync(tmp, 0o711);
    paths = openAgentDataDir(join(tmp, "data"));
    root = paths.software;
    releases = join(tmp, "releases");
  });

  after(() => {
    rmSync(tmp, { recursive: true, force: true });
    assert.deepEqual(listBuildAccounts(prefix), [], "no build account outlives its build");
  });

  beforeEach(() => {
    for (const dir of [root, paths.records, paths.builds]) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { mode: 0o755 });
    }
  });

  it("fetches, checks, extracts and builds as the install's own account, then hands the tree to root", async () => {
    const url = release("ok");
    const sw = await installSoftware(url, opts());
    assert.equal(sw.descriptor.name, "echo");
    const builtBy = Number(readFileSync(join(sw.dir, "built-by"), "utf8").trim());
    assert.ok(builtBy > 0, "not built as root");
    const bin = statSync(join(sw.dir, "bin", "echo-server"));
    assert.equal(bin.uid, 0);
    assert.equal(bin.mode & 0o777, 0o755);
    assert.equal(statSync(sw.dir).mode & 0o777, 0o755);
    assert.ok(existsSync(installPaths(opts(), sw.id).record), "the agent's record of it");
    assert.ok(!existsSync(join(sw.dir, ".outpost-installed.json")), "no agent file in the tree");
    assert.deepEqual(softwareEntries(), [sw.id]);
    assert.deepEqual(readdirSync(paths.builds), [`${sw.id}.log`], "the work directory is gone");
    assert.deepEqual(listBuildAccounts(prefix), [], "the build account is gone");
  });

  it("installs once: the same descriptor again is found, not rebuilt", async () => {
    const url = release("once");
    const first = await installSoftware(url, opts());
    const record = installPaths(opts(), first.id).record;
    const mark = statSync(record).mtimeMs;
    const again = await installSoftware(url, opts());
    assert.equal(again.dir, first.dir);
    assert.equal(statSync(record).mtimeMs, mark);
  });

  it("keeps two versions side by side in directories keyed by URL and content", async () => {
    const url = release("v1");
    const v1 = await installSoftware(url, opts());
    writeFileSync(url, readFileSync(url, "utf8").replace("version: 1.0.0", "version: 1.0.1"));
    const v2 = await installSoftware(url, opts());
    assert.notEqual(v1.dir, v2.dir);
    assert.equal(v2.descriptor.version, "1.0.1");
    assert.ok(existsSync(join(v1.dir, "bin", "echo-server")));
    assert.ok(existsSync(join(v2.dir, "bin", "echo-server")));
  });

  it("refuses a source whose sha256 differs and keeps nothing of it", async () => {
    const url = release("bad-sha", (t) => t.replace(/sha256: [0-9a-f]{4}/, "sha256: 0000"));
    await assert.rejects(installSoftware(url, opts()), (err) => {
      assert.ok(err instanceof ChecksumMismatchError);
      assert.equal(err.code, "E_AGENT_SHA256");
      assert.match(err.message, /sha256 mismatch for file:.*echo\.tar\.gz: expected 0000/);
      return true;
    });
    assert.deepEqual(softwareEntries(), []);
  });

  it("reports a failed build step with its log tail and leaves nothing half-installed", async () => {
    const url = release("fails", (t) =>
      t.replace(
        'run: ["make", "install", "PREFIX={{software}}"]',
        'run: ["sh", "-c", "make install PREFIX={{software}} && echo compiler exploded >&2 && exit 3"]',
      ),
    );
    await assert.rejects(installSoftware(url, opts()), (err) => {
      assert.ok(err instanceof BuildFailedError);
      assert.equal(err.code, "E_AGENT_BUILD");
      assert.match(err.message, /failed at build\.steps\[0\]: exit status 3/);
      assert.match(err.logTail, /compiler exploded/);
      return true;
    });
    assert.deepEqual(softwareEntries(), []);
  });

  it("kills a build step that outlives its timeout, with its children", async () => {
    const url = release("hangs", (t) =>
      t.replace(
        'run: ["make", "install", "PREFIX={{software}}"]',
        'run: ["sh", "-c", "sleep 61.2345 & sleep 61.2345"]',
      ),
    );
    const started = Date.now();
    await assert.rejects(installSoftware(url, opts({ stepTimeoutMs: 300 })), {
      code: "E_AGENT_BUILD",
      message: /timed out after 300 ms/,
    });
    assert.ok(Date.now() - started < 10_000);
    for (let i = 0; i < 50 && processesRunning("61.2345").length > 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(processesRunning("61.2345"), [], "the background sleep was killed too");
    assert.deepEqual(
      listBuildAccounts(prefix),
      [],
      "its account is gone, so none of its processes is left",
    );
    assert.deepEqual(softwareEntries(), []);
  });

  it("removes what an interrupted install left when the store opens, keeping complete ones", async () => {
    const url = release("kept");
    const kept = await installSoftware(url, opts());
    mkdirSync(join(root, "0123456789abcdef0123"));
    mkdirSync(join(paths.builds, "0123456789abcdef0123"));
    const store = SoftwareStore.open(opts());
    assert.deepEqual(softwareEntries(), [kept.id]);
    assert.ok(!existsSync(join(paths.builds, "0123456789abcdef0123")));
    assert.equal(store.get(url)?.dir, kept.dir);
  });

  it("does not retry a failed install before its backoff delay, then retries", async () => {
    const url = release("retry", (t) => t.replace(/sha256: [0-9a-f]{4}/, "sha256: 0000"));
    const store = SoftwareStore.open({
      ...opts(),
      backoff: { initialMs: 60_000, maxMs: 60_000 },
    });
    const t0 = Date.now();
    const first = await store.ensure(url, t0).catch((e: unknown) => e);
    assert.ok(first instanceof ChecksumMismatchError);
    // Repaired meanwhile, but inside the backoff window the same failure comes back.
    writeFileSync(url, readFileSync(join(fixture, "software.yaml")));
    assert.equal(await store.ensure(url, t0 + 1000).catch((e: unknown) => e), first);
    assert.equal(store.failure(url)?.failures, 1);
    const sw = await store.ensure(url, t0 + 60_001);
    assert.ok(existsSync(installPaths(opts(), sw.id).record));
    assert.equal(store.failure(url), undefined);
  });

  it("keeps using an installed release when its descriptor cannot be fetched (offline)", async () => {
    const url = release("offline");
    const store = SoftwareStore.open(opts());
    const sw = await store.ensure(url);
    rmSync(url);
    assert.equal((await store.ensure(url)).dir, sw.dir);
  });

  it("installs what a release without build steps fetched and unpacked, as it stands", async () => {
    const dir = join(releases, "unpack-only");
    const payload = join(tmp, "payload");
    mkdirSync(join(payload, "bin"), { recursive: true });
    writeFileSync(join(payload, "bin", "hello"), "#!/bin/sh\necho hello\n", { mode: 0o755 });
    writeFileSync(join(payload, "README"), "docs\n");
    mkdirSync(dir, { recursive: true });
    execFileSync("tar", ["-czf", join(dir, "hello.tar.gz"), "-C", payload, "bin", "README"]);
    writeFileSync(join(dir, "notes.txt"), "kept as fetched\n");
    const sha = (f: string) =>
      createHash("sha256")
        .update(readFileSync(join(dir, f)))
        .digest("hex");
    const url = join(dir, "software.yaml");
    writeFileSync(
      url,
      `apiVersion: outpost/v1
name: unpack-only
version: 1.0.0
build:
  fetch:
    - { url: ./hello.tar.gz, sha256: ${sha("hello.tar.gz")}, extract: true }
    - { url: ./notes.txt, sha256: ${sha("notes.txt")} }
instance:
  processes:
    - { name: hello, command: ["{{software}}/bin/hello"] }
`,
    );
    const sw = await installSoftware(url, opts());
    assert.deepEqual(readdirSync(sw.dir).sort(), ["README", "bin", "notes.txt"]);
    assert.equal(statSync(join(sw.dir, "bin", "hello")).uid, 0);
    assert.equal(statSync(sw.dir).mode & 0o777, 0o755);
  });

  it("fails an install whose process program is not in the installed tree, naming it", async () => {
    const url = release("missing-program", (t) =>
      t.replace("{{software}}/bin/echo-server", "{{software}}/bin/echo-srv"),
    );
    await assert.rejects(installSoftware(url, opts()), (err) => {
      assert.ok(err instanceof BuildFailedError);
      assert.equal(err.code, "E_AGENT_BUILD");
      assert.match(err.message, /a process's program is missing/);
      assert.match(
        err.logTail,
        /instance\.processes\[0\]\.command\[0\]: '.*\/bin\/echo-srv' does not exist/,
      );
      return true;
    });
    assert.deepEqual(softwareEntries(), []);
  });
});
