/**
 * image-format — what an Outpost image is on disk, shared by `images/` (which writes and
 * flashes it) and `ota/` (which installs it): the bmap, the signed manifest, and the copy
 * and read-back of mapped blocks. See README.md for the guarantees.
 */
export { type BlockRange, type Bmap, parseBmap, renderBmap } from "./bmap-file.js";
export {
  FlashVerifyError,
  ImageFormatError,
  ImageHashMismatchError,
  ManifestFormatError,
  ManifestSignatureError,
} from "./errors.js";
export {
  type ImageManifest,
  loadSigningKey,
  readVerifiedManifest,
  type SignedManifest,
  signManifest,
} from "./manifest.js";
export { copyMappedBlocks, verifyMappedBlocks } from "./mapped-blocks.js";
