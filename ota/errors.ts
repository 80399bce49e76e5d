import { CodedError } from "../common/errors.js";

/** The base of ota's errors, each with a stable `code` (docs/errors.md). */
export abstract class OtaError extends CodedError {}

/** The slot environment (GRUB env block) cannot be read or does not describe two slots. */
export class SlotEnvError extends OtaError {
  readonly code = "E_OTA_ENV";
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** An install or commit that would leave the box without a bootable fallback, or is aimed at the wrong board. */
export class OtaRefusedError extends OtaError {
  readonly code = "E_OTA_REFUSED";
  constructor(readonly reason: string) {
    super(reason);
  }
}
