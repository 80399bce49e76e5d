/** The slot environment (GRUB env block) cannot be read or does not describe two slots. */
export class SlotEnvError extends Error {
  readonly code = "E_OTA_ENV";
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = "SlotEnvError";
  }
}

/** An install or commit that would leave the box without a bootable fallback, or is aimed at the wrong board. */
export class OtaRefusedError extends Error {
  readonly code = "E_OTA_REFUSED";
  constructor(readonly reason: string) {
    super(reason);
    this.name = "OtaRefusedError";
  }
}
