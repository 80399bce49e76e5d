import { CodedError } from "../common/errors.js";

/** The base of image-format's errors, each with a stable `code` (docs/errors.md). */
export abstract class ImageFormatError extends CodedError {}

/** A manifest's signature does not verify with the key given, or it is unsigned. */
export class ManifestSignatureError extends ImageFormatError {
  readonly code = "E_IMAGE_SIGNATURE";
  constructor(
    message: string,
    readonly manifest: string,
  ) {
    super(message);
  }
}

/** A manifest or bmap file is not what `outpost image build` writes. */
export class ManifestFormatError extends ImageFormatError {
  readonly code = "E_IMAGE_FORMAT";
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

/** The image's bytes differ from what its signed manifest or its bmap records. */
export class ImageHashMismatchError extends ImageFormatError {
  readonly code = "E_IMAGE_HASH";
  constructor(
    /** The partition label, `image`, `bmap`, or the bmap block range (`12-40`). */
    readonly part: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${part}: sha256 is ${actual}, expected ${expected}`);
  }
}

/** What was read back from the target differs from what was written. */
export class FlashVerifyError extends ImageFormatError {
  readonly code = "E_FLASH_VERIFY";
  constructor(
    readonly target: string,
    readonly range: string,
  ) {
    super(`${target}: blocks ${range} read back differ from the image`);
  }
}
