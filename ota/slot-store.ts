import { readFileSync } from "node:fs";
import { OtaRefusedError } from "./errors.js";
import { readGrubEnv, writeGrubEnv } from "./grub-env.js";
import { bootedSlot, type OtaConfig } from "./ota-config.js";
import { type Slot, type SlotState, slotStateFrom, slotVars } from "./slot-state.js";

/**
 * The slot state where the bootloader reads it (the GRUB env block), and the slot this
 * system runs on. Variables other than the slot ones are kept as they are.
 */
export class SlotStore {
  constructor(
    readonly config: OtaConfig,
    private readonly cmdlineFile = "/proc/cmdline",
  ) {}

  read(): SlotState {
    return slotStateFrom(readGrubEnv(this.config.env), this.config.env);
  }

  write(state: SlotState): void {
    const vars = readGrubEnv(this.config.env);
    for (const [k, v] of slotVars(state)) vars.set(k, v);
    writeGrubEnv(this.config.env, vars);
  }

  /** The running slot; refused when the kernel was not booted by Outpost's bootloader script. */
  booted(): Slot {
    const slot = bootedSlot(readFileSync(this.cmdlineFile, "utf8"));
    if (!slot) {
      throw new OtaRefusedError(
        `${this.cmdlineFile} has no outpost.slot=a|b: this system was not booted from an Outpost A/B image`,
      );
    }
    return slot;
  }
}
