export {
  type BuildImageOptions,
  type BuildProgress,
  type BuiltImage,
  buildImage,
} from "./build-image.js";
export { type DebootstrapOptions, debianPackages, debootstrapRootfs } from "./debootstrap.js";
export { type DiskPlan, planDisk, sfdiskScript } from "./disk-plan.js";
export { FlashRefusedError, ImageError, ImageInputError, ImageToolError } from "./errors.js";
export { type FlashOptions, type FlashResult, flashImage } from "./flash.js";
export { refuseBlockDevice } from "./flash-target.js";
export { defaultCacheDir } from "./registry-package.js";
export { AGENT_DATA_MOUNT, applySystemOverlay, type SystemOptions } from "./system-overlay.js";
export { verifyImage } from "./verify-image.js";
