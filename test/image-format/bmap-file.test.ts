import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Bmap, ManifestFormatError, parseBmap, renderBmap } from "../../image-format/index.js";

const bmap: Bmap = {
  imageSize: 10 * 4096 + 100,
  blockSize: 4096,
  blocksCount: 11,
  mappedBlocksCount: 4,
  ranges: [
    { first: 0, last: 2, sha256: "a".repeat(64) },
    { first: 10, last: 10, sha256: "b".repeat(64) },
  ],
};

describe("image-format/bmap-file: bmaptool's block map format", () => {
  it("reads back what it writes", () => {
    assert.deepEqual(parseBmap(renderBmap(bmap), "x.bmap"), bmap);
  });

  it("rejects a bmap whose text changed after its checksum was computed", () => {
    const text = renderBmap(bmap).replace("> 10 <", "> 9 <");
    assert.throws(
      () => parseBmap(text, "x.bmap"),
      (err: unknown) => {
        assert.ok(err instanceof ManifestFormatError);
        assert.equal(err.code, "E_IMAGE_FORMAT");
        assert.match(
          err.message,
          /^x\.bmap: not a usable bmap \(BmapFileChecksum does not match the file\)$/,
        );
        return true;
      },
    );
  });

  it("rejects ranges out of order or past the image, and text that is not XML", () => {
    const overlapping = renderBmap({
      ...bmap,
      ranges: [...bmap.ranges, { first: 5, last: 6, sha256: "c".repeat(64) }],
    });
    assert.throws(
      () => parseBmap(overlapping, "x.bmap"),
      /Range 5-6 is out of order or past the image/,
    );
    assert.throws(() => parseBmap("not xml at all", "x.bmap"), ManifestFormatError);
  });

  it("reads a bmap written by bmaptool create", function () {
    this.timeout(30_000);
    const dir = mkdtempSync(join(tmpdir(), "outpost-bmap-"));
    try {
      const image = join(dir, "sparse.img");
      execFileSync("truncate", ["-s", "1M", image]);
      execFileSync("dd", [
        `of=${image}`,
        "bs=4096",
        "seek=3",
        "count=2",
        "conv=notrunc",
        "status=none",
        "if=/dev/urandom",
      ]);
      const text = execFileSync("bmaptool", ["create", image], { encoding: "utf8" });
      writeFileSync(join(dir, "sparse.bmap"), text);
      const parsed = parseBmap(text, "sparse.bmap");
      assert.equal(parsed.imageSize, 2 ** 20);
      assert.deepEqual(
        parsed.ranges.map((r) => [r.first, r.last]),
        [[3, 4]],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
