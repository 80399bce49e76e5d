import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  lstatSync,
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
import {
  ensurePartition,
  type Partition,
  type PartitionOptions,
  removePartition,
  removeSystemUser,
  writeFileBeneath,
  writeInstanceFiles,
} from "../../../agent/index.js";

describe("instance files (written fd-relative into the partition, owned by its user)", function () {
  this.timeout(20_000);
  let tmp: string;
  let options: PartitionOptions;
  let partition: Partition;

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "outpost-agent-files-"));
    chmodSync(tmp, 0o711);
    options = {
      root: join(tmp, "partitions"),
      logRoot: join(tmp, "logs"),
      userPrefix: `otf${randomBytes(3).toString("hex")}-`,
      isolated: true,
    };
    mkdirSync(options.root, { mode: 0o711 });
    partition = ensurePartition(options, 1);
  });

  after(async () => {
    try {
      if (partition) await removePartition(options, partition);
    } finally {
      removeSystemUser(`${options.userPrefix}1`);
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("writes each file with its mode, owned by the partition user, creating directories", async () => {
    const path = join(partition.path, "etc", "deep", "echo.conf");
    await writeInstanceFiles(partition, [{ path, mode: 0o600, content: "port=7000\n" }]);
    const st = statSync(path);
    assert.equal(readFileSync(path, "utf8"), "port=7000\n");
    assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [partition.uid, partition.gid, 0o600]);
    await writeInstanceFiles(partition, [{ path, mode: 0o640, content: "port=7001\n" }]);
    assert.equal(readFileSync(path, "utf8"), "port=7001\n");
    assert.equal(statSync(path).mode & 0o777, 0o640);
  });

  it("cannot be turned against root by a symlink the partition planted", async () => {
    // The partition points etc2 at a root-only directory; the write must fail, not land there.
    const target = mkdtempSync(join(tmp, "root-only-"));
    chmodSync(target, 0o700);
    const link = join(partition.path, "etc2");
    spawnSync("ln", ["-s", target, link], { uid: partition.uid, gid: partition.gid });
    assert.ok(lstatSync(link).isSymbolicLink());
    await assert.rejects(
      writeInstanceFiles(partition, [
        { path: join(link, "x.conf"), mode: 0o600, content: "pwned\n" },
      ]),
      { code: "E_AGENT_FILE", message: /cannot write .*etc2\/x\.conf: .*symbolic link .*refused/ },
    );
    assert.ok(!existsSync(join(target, "x.conf")));
  });

  it("replaces a symlink or a FIFO the partition planted at the file, never following or opening it", async () => {
    const victim = join(tmp, "root-secret");
    writeFileSync(victim, "untouched\n", { mode: 0o600 });
    const as = { uid: partition.uid, gid: partition.gid };
    spawnSync("mkdir", ["-p", join(partition.path, "etc3")], as);
    const linked = join(partition.path, "etc3", "a.conf");
    const fifo = join(partition.path, "etc3", "b.conf");
    spawnSync("ln", ["-s", victim, linked], as);
    spawnSync("mkfifo", [fifo], as);
    // The old writer's fixed temp name, as a FIFO: a writer that opened it would hang.
    spawnSync("mkfifo", [`${fifo}.outpost-tmp`], as);
    await writeInstanceFiles(partition, [
      { path: linked, mode: 0o600, content: "a\n" },
      { path: fifo, mode: 0o600, content: "b\n" },
    ]);
    assert.equal(readFileSync(victim, "utf8"), "untouched\n");
    assert.equal(statSync(victim).uid, 0);
    for (const [path, content] of [
      [linked, "a\n"],
      [fifo, "b\n"],
    ] as const) {
      assert.ok(lstatSync(path).isFile());
      assert.equal(readFileSync(path, "utf8"), content);
      assert.equal(statSync(path).uid, partition.uid);
    }
    assert.deepEqual(
      readdirSync(join(partition.path, "etc3")).sort(),
      ["a.conf", "b.conf", "b.conf.outpost-tmp"],
      "no temp file left behind",
    );
  });

  it("refuses a path that a partition made climb out with .. or a directory symlinked to /", async () => {
    spawnSync("ln", ["-s", "/", join(partition.path, "up")], {
      uid: partition.uid,
      gid: partition.gid,
    });
    await assert.rejects(
      writeInstanceFiles(partition, [
        { path: join(partition.path, "up", "etc", "x"), mode: 0o600, content: "x" },
      ]),
      { code: "E_AGENT_FILE", message: /symbolic link .*refused/ },
    );
    assert.throws(() => writeFileBeneath(partition.path, "../escape", "x", { mode: 0o600 }), {
      code: "E_AGENT_PATH",
      message: /not a plain relative path/,
    });
    assert.ok(!existsSync(join(tmp, "partitions", "escape")));
  });
});
