import { strict as assert } from "node:assert";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskBuffer } from "../../buffer/buffer.js";
import { until } from "../helpers/until.js";

describe("buffer/recover-buffer", () => {
  let work: string;
  let dir: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-recoverbuf-"));
    dir = join(work, "buf");
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it("opens past a chunk with a damaged header and quarantines it in the background", async () => {
    let buffer = await DiskBuffer.open({ dir, defaults: { sealBytes: 64, fsync: "never" } });
    for (let i = 0; i < 4; i++) await buffer.append("a", [Buffer.from(`record-${i}`.padEnd(40))]);
    await buffer.close();
    const streamDir = join(dir, "streams", "a");
    const first = readdirSync(streamDir).sort()[0] as string;
    const bytes = readFileSync(join(streamDir, first));
    bytes.writeUInt8(bytes.readUInt8(2) ^ 0xff, 2);
    writeFileSync(join(streamDir, first), bytes);

    buffer = await DiskBuffer.open({ dir });
    await until(() => buffer.metrics().corruptChunks === 1, 5000, "never quarantined");
    assert.equal(buffer.metrics().backlogRecords, 4);
    assert.deepEqual(readdirSync(join(dir, "corrupt")).sort(), [
      `a-${first.replace(".chunk", "")}.chunk`,
      `a-${first.replace(".chunk", "")}.json`,
    ]);
    await buffer.close();
  });

  it("never reuses a chunk id, even one only left in corrupt/", async () => {
    let buffer = await DiskBuffer.open({ dir });
    await buffer.append("a", [Buffer.from("x")]);
    await buffer.close();
    rmSync(join(dir, "streams", "a"), { recursive: true });
    rmSync(join(dir, "checkpoint.0"));
    rmSync(join(dir, "checkpoint.1"));
    writeFileSync(join(dir, "corrupt", "a-0000000000000010.chunk"), "old damage");
    buffer = await DiskBuffer.open({ dir });
    await buffer.append("a", [Buffer.from("y")]);
    await buffer.sealAll();
    assert.equal(buffer.nextToSend()?.id, 0x11);
    await buffer.close();
  });
});
