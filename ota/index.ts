export { type BootHealthOptions, type BootHealthOutcome, watchBootHealth } from "./boot-health.js";
export { OtaError, OtaRefusedError, SlotEnvError } from "./errors.js";
export {
  GRUB_ENV_SIZE,
  parseGrubEnv,
  readGrubEnv,
  renderGrubEnv,
  writeGrubEnv,
} from "./grub-env.js";
export { type GrubScriptOptions, renderGrubScript } from "./grub-script.js";
export { type InstallOptions, type InstallResult, installUpdate } from "./install-update.js";
export {
  bootedSlot,
  DEFAULT_OTA_CONFIG_FILE,
  type OtaConfig,
  otaConfigSchema,
} from "./ota-config.js";
export { partitionBmap } from "./partition-ranges.js";
export {
  beginInstall,
  commitSlot,
  finishInstall,
  initialSlotState,
  MAX_ATTEMPTS,
  nextBoot,
  otherSlot,
  rejectSlot,
  type Slot,
  type SlotHealth,
  type SlotState,
  settleAfterBoot,
  slotStateFrom,
  slotVars,
} from "./slot-state.js";
export { SlotStore } from "./slot-store.js";
