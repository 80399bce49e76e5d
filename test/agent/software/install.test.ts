import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
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
  BuildFailedError,
  ChecksumMismatchError,
  ensureSystemUser,
  INSTALLED_MARK,
  installSoftware,
  openAgentDataDir,
  removeSystemUser,
  SoftwareStore,
} from "../../../agent/index.js";
import { repoRoot } from "../../helpers/run-outpost.js";

/** Pids of live (not zombie) processes running as `uid`, from /proc. */
function processesOf(uid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      const zombie = /^State:\s+Z/m.test(status);
      if (!zombie && new RegExp(`^Uid:\\s+${uid}\\s`, "m").test(status)) pids.push(Number(entry));
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
  let releases: string;
  let buildUser: { name: string; uid: number; gid: number };

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
    root = openAgentDataDir(join(tmp, "data")).software;
    releases = join(tmp, "releases");
    const name = `otb${randomBytes(3).toString("hex")}`;
    const user = ensureSystemUser(name, "/nonexistent");
    buildUser = { name, uid: user.uid, gid: user.gid };
  });

  after(() => {
    rmSync(tmp, { recursive: true, force: true });
    removeSystemUser(buildUser.name);
  });

  beforeEach(() => {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { mode: 0o755 });
  });

  it("fetches, checks, extracts and builds as the build user, then hands the tree to root", async () => {
    const url = release("ok");
    const sw = await installSoftware(url, { root, buildUser, logger });
    assert.equal(sw.descriptor.name, "echo");
    assert.equal(readFileSync(join(sw.dir, "built-by"), "utf8").trim(), String(buildUser.uid));
    const bin = statSync(join(sw.dir, "bin", "echo-server"));
    assert.equal(bin.uid, 0);
    assert.equal(bin.mode & 0o777, 0o755);
    assert.ok(existsSync(join(sw.dir, INSTALLED_MARK)));
    assert.deepEqual(softwareEntries(), [sw.id], "the work directory is gone");
  });

  it("installs once: the same descriptor again is found, not rebuilt", async () => {
    const url = release("once");
    const first = await installSoftware(url, { root, buildUser, logger });
    const mark = statSync(join(first.dir, INSTALLED_MARK)).mtimeMs;
    const again = await installSoftware(url, { root, buildUser, logger });
    assert.equal(again.dir, first.dir);
    assert.equal(statSync(join(first.dir, INSTALLED_MARK)).mtimeMs, mark);
  });

  it("keeps two versions side by side in directories keyed by URL and content", async () => {
    const url = release("v1");
    const v1 = await installSoftware(url, { root, buildUser, logger });
    writeFileSync(url, readFileSync(url, "utf8").replace("version: 1.0.0", "version: 1.0.1"));
    const v2 = await installSoftware(url, { root, buildUser, logger });
    assert.notEqual(v1.dir, v2.dir);
    assert.equal(v2.descriptor.version, "1.0.1");
    assert.ok(existsSync(join(v1.dir, "bin", "echo-server")));
    assert.ok(existsSync(join(v2.dir, "bin", "echo-server")));
  });

  it("refuses a source whose sha256 differs and keeps nothing of it", async () => {
    const url = release("bad-sha", (t) => t.replace(/sha256: [0-9a-f]{4}/, "sha256: 0000"));
    await assert.rejects(installSoftware(url, { root, buildUser, logger }), (err) => {
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
    await assert.rejects(installSoftware(url, { root, buildUser, logger }), (err) => {
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
        'run: ["sh", "-c", "sleep 60 & sleep 60"]',
      ),
    );
    const started = Date.now();
    await assert.rejects(installSoftware(url, { root, buildUser, logger, stepTimeoutMs: 300 }), {
      code: "E_AGENT_BUILD",
      message: /timed out after 300 ms/,
    });
    assert.ok(Date.now() - started < 10_000);
    for (let i = 0; i < 50 && processesOf(buildUser.uid).length > 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(processesOf(buildUser.uid), [], "the background sleep was killed too");
    assert.deepEqual(softwareEntries(), []);
  });

  it("removes what an interrupted install left when the store opens, keeping complete ones", async () => {
    const url = release("kept");
    const kept = await installSoftware(url, { root, buildUser, logger });
    mkdirSync(join(root, "0123456789abcdef0123"));
    mkdirSync(join(root, "0123456789abcdef0123.build"));
    const store = SoftwareStore.open({ root, buildUser, logger });
    assert.deepEqual(softwareEntries(), [kept.id]);
    assert.equal(store.get(url)?.dir, kept.dir);
  });

  it("does not retry a failed install before its backoff delay, then retries", async () => {
    const url = release("retry", (t) => t.replace(/sha256: [0-9a-f]{4}/, "sha256: 0000"));
    const store = SoftwareStore.open({
      root,
      buildUser,
      logger,
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
    assert.ok(existsSync(join(sw.dir, INSTALLED_MARK)));
    assert.equal(store.failure(url), undefined);
  });

  it("keeps using an installed release when its descriptor cannot be fetched (offline)", async () => {
    const url = release("offline");
    const store = SoftwareStore.open({ root, buildUser, logger });
    const sw = await store.ensure(url);
    rmSync(url);
    assert.equal((await store.ensure(url)).dir, sw.dir);
  });
});
