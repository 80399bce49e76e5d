/** An external tool (sfdisk, mke2fs, mcopy, tar, …) failed; `stderr` holds its last words. */
export class ImageToolError extends Error {
  readonly code = "E_IMAGE_TOOL";
  constructor(
    readonly tool: string,
    readonly args: readonly string[],
    readonly stderr: string,
    readonly status: number | null,
  ) {
    const last = stderr.trim().split("\n").at(-1) ?? "";
    super(`${tool} failed (${status === null ? "killed" : `exit ${status}`}): ${last}`);
    this.name = "ImageToolError";
  }
}

/** The rootfs tarball or a partition's content does not fit the board's layout. */
export class ImageInputError extends Error {
  readonly code = "E_IMAGE_INPUT";
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = "ImageInputError";
  }
}

/** A manifest's signature does not verify with the key given, or it is unsigned. */
export class ManifestSignatureError extends Error {
  readonly code = "E_IMAGE_SIGNATURE";
  constructor(
    message: string,
    readonly manifest: string,
  ) {
    super(message);
    this.name = "ManifestSignatureError";
  }
}

/** A manifest or bmap file is not what `outpost image build` writes. */
export class ManifestFormatError extends Error {
  readonly code = "E_IMAGE_FORMAT";
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = "ManifestFormatError";
  }
}

/** The image's bytes differ from what its signed manifest or its bmap records. */
export class ImageHashMismatchError extends Error {
  readonly code = "E_IMAGE_HASH";
  constructor(
    /** The partition label, `image`, `bmap`, or the bmap block range (`12-40`). */
    readonly part: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${part}: sha256 is ${actual}, expected ${expected}`);
    this.name = "ImageHashMismatchError";
  }
}

/** `image flash` will not write the target; `reason` says why. */
export class FlashRefusedError extends Error {
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
    this.name = "FlashRefusedError";
  }
}

/** What was read back from the target differs from what was written. */
export class FlashVerifyError extends Error {
  readonly code = "E_FLASH_VERIFY";
  constructor(
    readonly target: string,
    readonly range: string,
  ) {
    super(`${target}: blocks ${range} read back differ from the image`);
    this.name = "FlashVerifyError";
  }
}
