import { OtaRefusedError, SlotEnvError } from "./errors.js";

export type Slot = "a" | "b";
/**
 * `good`: committed, booted without counting. `trial`: installed, booted while attempts
 * are left. `bad`: rejected by its health check or out of attempts. `dirty`: being
 * written (or a write was cut short); never booted.
 */
export type SlotHealth = "good" | "trial" | "bad" | "dirty";

export interface SlotState {
  /** Which slot the bootloader tries first. */
  order: [Slot, Slot];
  slots: Record<Slot, { health: SlotHealth; attemptsLeft: number }>;
}

/** Most trial boots a slot may be given: the GRUB script counts down with one `if` per attempt. */
export const MAX_ATTEMPTS = 9;

export const otherSlot = (s: Slot): Slot => (s === "a" ? "b" : "a");

const HEALTH = new Set<SlotHealth>(["good", "trial", "bad", "dirty"]);

/** Reads the slot variables (`ORDER`, `A_STATE`, `A_LEFT`, `B_STATE`, `B_LEFT`) of a GRUB env. */
export function slotStateFrom(vars: ReadonlyMap<string, string>, file: string): SlotState {
  const order = vars.get("ORDER");
  if (order !== "a b" && order !== "b a")
    throw new SlotEnvError(file, `ORDER is '${order ?? ""}', expected 'a b' or 'b a'`);
  const slot = (s: Slot) => {
    const key = s.toUpperCase();
    const health = vars.get(`${key}_STATE`) as SlotHealth;
    if (!HEALTH.has(health))
      throw new SlotEnvError(
        file,
        `${key}_STATE is '${health ?? ""}', expected good|trial|bad|dirty`,
      );
    const left = vars.get(`${key}_LEFT`) ?? "";
    if (!/^\d$/.test(left)) throw new SlotEnvError(file, `${key}_LEFT is '${left}', expected 0-9`);
    return { health, attemptsLeft: Number(left) };
  };
  return { order: order.split(" ") as [Slot, Slot], slots: { a: slot("a"), b: slot("b") } };
}

export function slotVars(state: SlotState): Map<string, string> {
  return new Map([
    ["ORDER", state.order.join(" ")],
    ["A_STATE", state.slots.a.health],
    ["A_LEFT", String(state.slots.a.attemptsLeft)],
    ["B_STATE", state.slots.b.health],
    ["B_LEFT", String(state.slots.b.attemptsLeft)],
  ]);
}

/** A fresh image: slot A committed, B empty (dirty: nothing bootable in it). */
export function initialSlotState(): SlotState {
  return {
    order: ["a", "b"],
    slots: { a: { health: "good", attemptsLeft: 0 }, b: { health: "dirty", attemptsLeft: 0 } },
  };
}

function withSlot(
  state: SlotState,
  slot: Slot,
  health: SlotHealth,
  attemptsLeft: number,
  first: Slot,
): SlotState {
  const slots = { ...state.slots, [slot]: { health, attemptsLeft } };
  return { order: [first, otherSlot(first)], slots };
}

/**
 * Before writing the slot we are not running on: it becomes `dirty` (never booted) and
 * the running slot stays first. Refused while the running slot is itself on trial:
 * writing over the only committed slot would leave nothing to fall back to.
 */
export function beginInstall(state: SlotState, booted: Slot): SlotState {
  if (state.slots[booted].health !== "good") {
    throw new OtaRefusedError(
      `the running slot ${booted} is ${state.slots[booted].health}, not committed; ` +
        `'outpost ota mark-good' it (or reboot into the committed slot) before installing over slot ${otherSlot(booted)}`,
    );
  }
  return withSlot(state, otherSlot(booted), "dirty", 0, booted);
}

/** After the written slot verified: it goes first, on trial with `attempts` boots. */
export function finishInstall(state: SlotState, target: Slot, attempts: number): SlotState {
  return withSlot(state, target, "trial", attempts, target);
}

/** The booted slot is healthy: committed, first, and the other stays as the fallback. */
export function commitSlot(state: SlotState, booted: Slot): SlotState {
  return withSlot(state, booted, "good", 0, booted);
}

/** The booted trial slot failed its health check: bad, and the other slot boots next. */
export function rejectSlot(state: SlotState, booted: Slot): SlotState {
  const other = otherSlot(booted);
  if (state.slots[other].health !== "good") {
    throw new OtaRefusedError(
      `slot ${other} is ${state.slots[other].health}: rejecting slot ${booted} would leave nothing to boot`,
    );
  }
  return withSlot(state, booted, "bad", 0, other);
}

/**
 * After the bootloader fell back (it booted the second slot because the first was out
 * of attempts or bad): the first is marked bad and the booted slot goes first again, so
 * the failed slot is not tried once more. Unchanged when the booted slot is first.
 */
export function settleAfterBoot(
  state: SlotState,
  booted: Slot,
): { state: SlotState; fellBackFrom?: Slot } {
  const [first] = state.order;
  if (first === booted) return { state };
  return { state: withSlot(state, first, "bad", 0, booted), fellBackFrom: first };
}

/**
 * What the bootloader will do next, as its script decides: the first slot in order
 * that is good, or on trial with attempts left (counting one down); else, never
 * rebooting forever, the first slot that is not dirty, else slot a.
 */
export function nextBoot(state: SlotState): { slot: Slot; counts: boolean } {
  for (const s of state.order) {
    const { health, attemptsLeft } = state.slots[s];
    if (health === "good") return { slot: s, counts: false };
    if (health === "trial" && attemptsLeft > 0) return { slot: s, counts: true };
  }
  const usable = state.order.find((s) => state.slots[s].health !== "dirty");
  return { slot: usable ?? "a", counts: false };
}
