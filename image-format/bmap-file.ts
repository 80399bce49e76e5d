import { createHash } from "node:crypto";
import { XMLParser } from "fast-xml-parser";
import { ManifestFormatError } from "./errors.js";

/** Inclusive block range, as a bmap lists it. */
export interface BlockRange {
  first: number;
  last: number;
}

export interface Bmap {
  imageSize: number;
  blockSize: number;
  blocksCount: number;
  mappedBlocksCount: number;
  ranges: (BlockRange & { sha256: string })[];
}

const ZERO_SUM = "0".repeat(64);

/**
 * Renders a bmap in bmaptool's format 2.0: sha256 per range, and a BmapFileChecksum
 * computed over the file with that field set to 64 ASCII zeros, as `bmaptool copy` checks.
 */
export function renderBmap(bmap: Bmap): string {
  const ranges = bmap.ranges
    .map((r) => {
      const span = r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`;
      return `        <Range chksum="${r.sha256}"> ${span} </Range>\n`;
    })
    .join("");
  const withSum = (sum: string) =>
    `<?xml version="1.0" ?>
<!-- Block map written by outpost image build; bmaptool-compatible. -->
<bmap version="2.0">
    <ImageSize> ${bmap.imageSize} </ImageSize>
    <BlockSize> ${bmap.blockSize} </BlockSize>
    <BlocksCount> ${bmap.blocksCount} </BlocksCount>
    <MappedBlocksCount> ${bmap.mappedBlocksCount} </MappedBlocksCount>
    <ChecksumType> sha256 </ChecksumType>
    <BmapFileChecksum> ${sum} </BmapFileChecksum>
    <BlockMap>
${ranges}    </BlockMap>
</bmap>
`;
  const sum = createHash("sha256").update(withSum(ZERO_SUM)).digest("hex");
  return withSum(sum);
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  parseTagValue: false,
  trimValues: true,
});

/** Parses and checks a bmap file (format 2.x, sha256); throws ManifestFormatError. */
export function parseBmap(text: string, path: string): Bmap {
  const fail = (why: string): never => {
    throw new ManifestFormatError(`${path}: not a usable bmap (${why})`, path);
  };
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(text) as Record<string, unknown>;
  } catch (err) {
    return fail((err as Error).message);
  }
  const bmap = doc.bmap as Record<string, unknown> | undefined;
  if (!bmap || !String(bmap["@version"] ?? "").startsWith("2."))
    return fail("version 2.x expected");
  if (String(bmap.ChecksumType) !== "sha256") return fail("ChecksumType must be sha256");
  const sum = String(bmap.BmapFileChecksum ?? "");
  if (!/^[0-9a-f]{64}$/.test(sum) || !text.includes(sum)) return fail("bad BmapFileChecksum");
  const actual = createHash("sha256").update(text.replace(sum, ZERO_SUM)).digest("hex");
  if (actual !== sum) return fail("BmapFileChecksum does not match the file");
  const num = (key: string) => {
    const n = Number(bmap[key]);
    return Number.isSafeInteger(n) && n >= 0 ? n : fail(`${key} is not a whole number`);
  };
  const raw = (bmap.BlockMap as { Range?: unknown } | undefined)?.Range ?? [];
  const ranges = (Array.isArray(raw) ? raw : [raw]).map((r: Record<string, unknown>) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(String(r["#text"] ?? ""));
    const sha = String(r["@chksum"] ?? "");
    if (!m || !/^[0-9a-f]{64}$/.test(sha)) return fail(`bad Range ${JSON.stringify(r)}`);
    const first = Number(m[1]);
    return { first, last: m[2] === undefined ? first : Number(m[2]), sha256: sha };
  });
  const result = {
    imageSize: num("ImageSize"),
    blockSize: num("BlockSize"),
    blocksCount: num("BlocksCount"),
    mappedBlocksCount: num("MappedBlocksCount"),
    ranges,
  };
  if (result.blockSize === 0 || result.blockSize % 512 !== 0)
    fail("BlockSize must be a multiple of 512");
  for (const [i, r] of ranges.entries()) {
    const prev = ranges[i - 1];
    if (r.last < r.first || r.last >= result.blocksCount || (prev && r.first <= prev.last)) {
      fail(`Range ${r.first}-${r.last} is out of order or past the image`);
    }
  }
  return result;
}
