import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskBuffer } from "../../buffer/buffer.js";
import { BufferClosedError, BufferInputError, BufferLockedError } from "../../buffer/errors.js";

describe("buffer/buffer (DiskBuffer)", () => {
  let work: string;
  let dir: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-diskbuffer-"));
    dir = join(work, "buf");
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it("numbers records per stream and continues the numbering after a reopen", async () => {
    let buffer = await DiskBuffer.open({ dir });
    assert.deepEqual(await buffer.append("a", [Buffer.from("1"), Buffer.from("2")]), {
      firstSeq: 1,
      lastSeq: 2,
    });
    assert.deepEqual(await buffer.append("b", [Buffer.from("x")]), { firstSeq: 1, lastSeq: 1 });
    assert.deepEqual(await buffer.append("a", [Buffer.from("3")]), { firstSeq: 3, lastSeq: 3 });
    await buffer.close();
    buffer = await DiskBuffer.open({ dir });
    assert.deepEqual(await buffer.append("a", [Buffer.from("4")]), { firstSeq: 4, lastSeq: 4 });
    assert.deepEqual(buffer.streamNames.sort(), ["a", "b"]);
    await buffer.close();
  });

  it("never reuses sequence numbers or chunk ids of delivered chunks after a reopen", async () => {
    let buffer = await DiskBuffer.open({ dir });
    await buffer.append("a", [Buffer.from("1"), Buffer.from("2")]);
    await buffer.sealAll();
    const ref = buffer.nextToSend();
    assert.ok(ref);
    await buffer.acknowledge(ref);
    await buffer.close();
    buffer = await DiskBuffer.open({ dir });
    assert.deepEqual(await buffer.append("a", [Buffer.from("3")]), { firstSeq: 3, lastSeq: 3 });
    await buffer.sealAll();
    assert.ok((buffer.nextToSend()?.id ?? 0) > ref.id);
    await buffer.close();
  });

  it("refuses bad input with BufferInputError and stores nothing", async () => {
    const buffer = await DiskBuffer.open({ dir, maxRecordBytes: 8, maxStreams: 1 });
    await assert.rejects(buffer.append("a/b", [Buffer.from("x")]), BufferInputError);
    await assert.rejects(buffer.append("a", []), { code: "E_BUFFER_INPUT" });
    await assert.rejects(buffer.append("a", [Buffer.alloc(9)]), /exceeds maxRecordBytes \(8\)/);
    await assert.rejects(
      buffer.append("a", [Buffer.from("x")], { schema: Buffer.alloc(256) }),
      BufferInputError,
    );
    await buffer.append("a", [Buffer.from("ok")]);
    await assert.rejects(buffer.append("b", [Buffer.from("x")]), /more than maxStreams \(1\)/);
    assert.equal(buffer.metrics().backlogRecords, 1);
    await buffer.close();
  });

  it("holds its directory against a second opener and refuses appends after close", async () => {
    const buffer = await DiskBuffer.open({ dir });
    await assert.rejects(DiskBuffer.open({ dir }), BufferLockedError);
    await buffer.close();
    await assert.rejects(buffer.append("a", [Buffer.from("x")]), BufferClosedError);
  });
});
