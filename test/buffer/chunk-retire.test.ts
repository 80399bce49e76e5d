import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { DiskBuffer } from "../../buffer/buffer.js";
import { type FileLayer, realFileLayer, type WritableFile } from "../../buffer/file-layer.js";

/** The real file layer, logging each sync and unlink in the order they complete. */
function logging(log: string[]): FileLayer {
  const wrap = (file: WritableFile): WritableFile => ({
    get path() {
      return file.path;
    },
    get size() {
      return file.size;
    },
    append: (d) => file.append(d),
    writeAt: (o, d) => file.writeAt(o, d),
    truncate: (l) => file.truncate(l),
    close: () => file.close(),
    datasync: async () => {
      await file.datasync();
      log.push(`sync ${basename(file.path)}`);
    },
  });
  return {
    ...realFileLayer,
    createExclusive: async (p) => wrap(await realFileLayer.createExclusive(p)),
    openForAppend: async (p) => wrap(await realFileLayer.openForAppend(p)),
    unlink: async (p) => {
      await realFileLayer.unlink(p);
      log.push(`unlink ${basename(p)}`);
    },
  };
}

describe("buffer/chunk-retire", () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-retire-"));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it("deletes an acknowledged chunk only after a checkpoint saying so is durable", async () => {
    const log: string[] = [];
    const buffer = await DiskBuffer.open({ dir: join(work, "b") }, { fs: logging(log) });
    await buffer.append("a", [Buffer.from("x")]);
    await buffer.sealAll();
    const ref = buffer.nextToSend();
    assert.ok(ref);
    log.length = 0;
    await buffer.acknowledge(ref);
    const unlinkAt = log.indexOf(`unlink ${basename(ref.path)}`);
    const checkpointAt = log.findIndex((l) => l.startsWith("sync checkpoint."));
    assert.ok(checkpointAt >= 0 && unlinkAt > checkpointAt, log.join(", "));
    await buffer.close();
  });
});
