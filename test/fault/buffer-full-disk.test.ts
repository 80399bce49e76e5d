import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BufferFullError,
  DiskBuffer,
  Forwarder,
  readUndelivered,
  resolveConfig,
  statBuffer,
} from "../../buffer/index.js";
import { type LocalSink, startLocalSink } from "../helpers/local-sink/start.js";
import { readSinkStore } from "../helpers/local-sink/store.js";
import { TcpSink } from "../helpers/local-sink/tcp-sink.js";
import { until } from "../helpers/until.js";

/**
 * Fault (4): the buffer lives on a 2 MiB tmpfs the test mounts under its own temp dir
 * and fills to ENOSPC (the byte limit is far above the disk). Appends then fail with a
 * clear `BufferFullError` (reason `disk`), nothing already stored is damaged, and once
 * space comes back — another file on the disk removed, or chunks delivered and deleted —
 * appends succeed again. Every append that resolved is delivered, in order, once.
 */
describe("fault: full disk on a small tmpfs", function () {
  this.timeout(60_000);
  let work: string;
  let mountPoint: string | undefined;
  let sink: LocalSink | undefined;
  let buffer: DiskBuffer | undefined;
  let forwarder: Forwarder | undefined;

  before(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-enospc-"));
    const dir = join(work, "disk");
    mkdirSync(dir);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m,mode=0700", "outpost-test-enospc", dir]);
    mountPoint = dir;
  });
  after(async () => {
    await forwarder?.stop();
    await buffer?.close().catch(() => undefined);
    await sink?.stop();
    if (mountPoint) execFileSync("umount", [mountPoint]);
    rmSync(work, { recursive: true, force: true });
  });

  it("fails appends with BufferFullError on ENOSPC, corrupts nothing, and resumes when space returns", async () => {
    const disk = mountPoint as string;
    const config = resolveConfig({
      dir: join(disk, "buf"),
      defaults: { sealBytes: 32 * 1024, sealAgeMs: 50, fsync: "batch", batchMs: 2 },
      forward: { window: 4, ackTimeoutMs: 2000, backoffBaseMs: 10, backoffCapMs: 100 },
    });
    // Another tenant of the same disk, removed later to give space back.
    const ballast = join(disk, "ballast");
    writeFileSync(ballast, Buffer.alloc(256 * 1024));
    const db = await DiskBuffer.open(config);
    buffer = db;
    const accepted = new Map<number, string>();
    let n = 0;
    /** `count` appends at once (they share group commits); the first failure, if any. */
    const appendSome = async (count: number): Promise<unknown> => {
      const results = await Promise.allSettled(
        Array.from({ length: count }, async () => {
          const record = JSON.stringify({ n: n++, pad: "z".repeat(180) });
          const { firstSeq } = await db.append("bulk", [Buffer.from(record)]);
          accepted.set(firstSeq, record);
        }),
      );
      return results.find((r) => r.status === "rejected")?.reason;
    };

    let failure: unknown;
    for (let round = 0; round < 400 && !failure; round++) failure = await appendSome(50);
    assert.ok(
      failure instanceof BufferFullError,
      `expected BufferFullError, got ${String(failure)}`,
    );
    assert.equal(failure.code, "E_BUFFER_FULL");
    assert.equal(failure.reason, "disk");
    assert.match(
      failure.message,
      /buffer full for stream 'bulk' \(ENOSPC writing .*streams\/bulk\)/,
    );
    const free = statfsSync(disk);
    assert.ok(free.bavail * free.bsize < 64 * 1024, "the disk is not full");
    // Still full: a retry fails the same way instead of hanging or corrupting.
    assert.ok((await appendSome(50)) instanceof BufferFullError);

    const onDisk = await statBuffer(config.dir);
    assert.equal(onDisk.corruptChunks, 0);
    for (const s of Object.values(onDisk.streams)) assert.equal(s.damagedChunks, 0);

    // Space returns from elsewhere on the disk: appends work again, no restart.
    rmSync(ballast);
    assert.equal(await appendSome(100), undefined, "appends still fail after space was freed");

    // Fill it up again, then let delivery free the space.
    failure = undefined;
    for (let round = 0; round < 400 && !failure; round++) failure = await appendSome(50);
    assert.ok(failure instanceof BufferFullError && failure.reason === "disk");
    sink = await startLocalSink(mkdtempSync(join(work, "sink-")));
    const fw = new Forwarder(db, new TcpSink("127.0.0.1", sink.port), config.forward);
    forwarder = fw;
    fw.start();
    await until(
      () => db.metrics().deliveredChunks >= 4,
      20_000,
      "nothing delivered from a full disk",
    );
    assert.equal(await appendSome(100), undefined, "appends still fail after delivery freed space");
    await db.sealAll();
    await until(() => db.metrics().backlogRecords === 0, 20_000, "backlog never drained");
    await fw.stop();
    await db.close();

    const left: string[] = [];
    for await (const r of readUndelivered(config.dir)) left.push(r.payload.toString());
    assert.deepEqual(left, []);
    const store = readSinkStore(sink.dir);
    const ids = store.chunks.map((c) => c.chunkId);
    assert.equal(new Set(ids).size, ids.length, "a chunk was stored twice");
    const records = store.chunks.sort((a, b) => a.chunkId - b.chunkId).flatMap((c) => c.stored);
    assert.deepEqual(
      records.map((r) => [r.seq, r.payload.toString()]),
      [...accepted].sort((a, b) => a[0] - b[0]),
    );
    console.log(
      `      ${accepted.size} records accepted around two full-disk episodes, all delivered`,
    );
  });
});
