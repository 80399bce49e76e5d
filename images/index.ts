export { type Bmap, parseBmap, renderBmap } from "./bmap-file.js";
export {
  type BuildImageOptions,
  type BuildProgress,
  type BuiltImage,
  buildImage,
} from "./build-image.js";
export { type DebootstrapOptions, debianPackages, debootstrapRootfs } from "./debootstrap.js";
export { type DiskPlan, planDisk, sfdiskScript } from "./disk-plan.js";
export {
  FlashRefusedError,
  FlashVerifyError,
  ImageHashMismatchError,
  ImageInputError,
  ImageToolError,
  ManifestFormatError,
  ManifestSignatureError,
} from "./errors.js";
export {
  copyMappedBlocks,
  type FlashOptions,
  type FlashResult,
  flashImage,
  verifyMappedBlocks,
} from "./flash.js";
export { devId, parseMountinfo, refuseBlockDevice } from "./flash-target.js";
export {
  type ImageManifest,
  readVerifiedManifest,
  type SignedManifest,
} from "./manifest.js";
export { defaultCacheDir } from "./registry-package.js";
export { AGENT_DATA_MOUNT, applySystemOverlay, type SystemOptions } from "./system-overlay.js";
export { verifyImage } from "./verify-image.js";
