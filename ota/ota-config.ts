import type { Slot } from "./slot-state.js";

/** `/etc/outpost/ota.json`, written into every image by `outpost image build`. */
export interface OtaConfig {
  board: string;
  slotSelection: "grub-env";
  /** The GRUB environment block on the mounted ESP. */
  env: string;
  /** Each slot's device, by PARTUUID, and the PARTUUID the kernel command line names. */
  slots: Record<Slot, { device: string; partuuid: string }>;
  /** PEM ed25519 public key update manifests must be signed with. */
  key: string;
  /** Trial boots an installed slot gets before the bootloader falls back. */
  attempts: number;
  /** How long the agent waits after a trial boot for its health to pass before rejecting the slot. */
  healthWindowSeconds: number;
}

export const DEFAULT_OTA_CONFIG_FILE = "/etc/outpost/ota.json";

const slot = {
  type: "object",
  additionalProperties: false,
  required: ["device", "partuuid"],
  properties: {
    device: { type: "string", pattern: "^/" },
    partuuid: {
      type: "string",
      pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    },
  },
} as const;

export const otaConfigSchema = {
  $id: "https://outpost.dev/schemas/ota.json",
  type: "object",
  additionalProperties: false,
  required: ["board", "slotSelection", "env", "slots", "key", "attempts", "healthWindowSeconds"],
  properties: {
    board: { type: "string", minLength: 1 },
    slotSelection: { const: "grub-env" },
    env: { type: "string", pattern: "^/" },
    slots: {
      type: "object",
      additionalProperties: false,
      required: ["a", "b"],
      properties: { a: slot, b: slot },
    },
    key: { type: "string", pattern: "^/" },
    attempts: { type: "integer", minimum: 1, maximum: 9 },
    healthWindowSeconds: { type: "number", minimum: 5, maximum: 86400 },
  },
} as const;

/** The slot the running kernel was booted from: `outpost.slot=` on its command line. */
export function bootedSlot(cmdline: string): Slot | undefined {
  const m = /(?:^|\s)outpost\.slot=([ab])(?:\s|$)/.exec(cmdline);
  return m ? (m[1] as Slot) : undefined;
}
