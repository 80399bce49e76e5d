import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import {
  ImageHashMismatchError,
  type ImageManifest,
  readVerifiedManifest,
} from "../image-format/index.js";

const CHUNK = 1024 * 1024;

/**
 * Checks an image against its signed manifest: the signature (with the given public
 * key), then the bmap's sha256, each partition's sha256 and the whole image's. Throws
 * the first failure (ManifestSignatureError, ManifestFormatError, ImageHashMismatchError).
 */
export function verifyImage(
  image: string,
  publicKey: string,
  manifestFile = `${image}.manifest.json`,
): ImageManifest {
  const manifest = readVerifiedManifest(manifestFile, publicKey);
  const bmapSha = createHash("sha256")
    .update(readFileSync(`${image}.bmap`))
    .digest("hex");
  if (bmapSha !== manifest.bmap.sha256)
    throw new ImageHashMismatchError("bmap", manifest.bmap.sha256, bmapSha);
  const fd = openSync(image, "r");
  try {
    const size = fstatSync(fd).size;
    if (size !== manifest.image.size)
      throw new ImageHashMismatchError("image size", String(manifest.image.size), String(size));
    for (const p of manifest.partitions) {
      const actual = sha256Of(fd, p.offset, p.size);
      if (actual !== p.sha256) throw new ImageHashMismatchError(p.label, p.sha256, actual);
    }
    const whole = sha256Of(fd, 0, size);
    if (whole !== manifest.image.sha256)
      throw new ImageHashMismatchError("image", manifest.image.sha256, whole);
  } finally {
    closeSync(fd);
  }
  return manifest;
}

function sha256Of(fd: number, offset: number, length: number): string {
  const hash = createHash("sha256");
  const buf = Buffer.alloc(CHUNK);
  for (let pos = offset; pos < offset + length; pos += CHUNK) {
    const n = readSync(fd, buf, 0, Math.min(CHUNK, offset + length - pos), pos);
    if (n === 0) break;
    hash.update(buf.subarray(0, n));
  }
  return hash.digest("hex");
}
