import { CodedError } from "../common/errors.js";

/** The base of images' errors, each with a stable `code` (docs/errors.md). */
export abstract class ImageError extends CodedError {}

/** An external tool (sfdisk, mke2fs, mcopy, tar, …) failed; `stderr` holds its last words. */
export class ImageToolError extends ImageError {
  readonly code = "E_IMAGE_TOOL";
  constructor(
    readonly tool: string,
    readonly args: readonly string[],
    readonly stderr: string,
    readonly status: number | null,
  ) {
    const last = stderr.trim().split("\n").at(-1) ?? "";
    super(`${tool} failed (${status === null ? "killed" : `exit ${status}`}): ${last}`);
  }
}

/** The rootfs tarball or a partition's content does not fit the board's layout. */
export class ImageInputError extends ImageError {
  readonly code = "E_IMAGE_INPUT";
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

/** `image flash` will not write the target; `reason` says why. */
export class FlashRefusedError extends ImageError {
  readonly code = "E_FLASH_REFUSED";
  constructor(
    readonly target: string,
    readonly reason:
      | "mounted"
      | "root-disk"
      | "in-use"
      | "too-small"
      | "not-confirmed"
      | "not-writable",
    detail: string,
  ) {
    super(`refusing to write ${target}: ${detail}`);
  }
}
