import { strict as assert } from "node:assert";
import {
  beginInstall,
  commitSlot,
  finishInstall,
  initialSlotState,
  nextBoot,
  OtaRefusedError,
  rejectSlot,
  renderGrubScript,
  SlotEnvError,
  type SlotState,
  settleAfterBoot,
  slotStateFrom,
  slotVars,
} from "../../ota/index.js";

/** What GRUB does at power-on, as the script's model: pick, count down, persist. */
function powerOn(state: SlotState): { slot: "a" | "b"; state: SlotState } {
  const { slot, counts } = nextBoot(state);
  if (!counts) return { slot, state };
  const s = state.slots[slot];
  return {
    slot,
    state: {
      ...state,
      slots: { ...state.slots, [slot]: { ...s, attemptsLeft: s.attemptsLeft - 1 } },
    },
  };
}

describe("ota/slot-state: the A/B state machine", () => {
  it("round-trips through GRUB variables and names a bad one", () => {
    const s = finishInstall(beginInstall(initialSlotState(), "a"), "b", 3);
    assert.deepEqual(slotStateFrom(slotVars(s), "env"), s);
    const vars = slotVars(s);
    vars.set("B_STATE", "maybe");
    assert.throws(
      () => slotStateFrom(vars, "env"),
      (e: unknown) => e instanceof SlotEnvError && /B_STATE is 'maybe'/.test(e.message),
    );
  });

  it("install → trial boots → commit: B first and good, A kept as the fallback", () => {
    let s = finishInstall(beginInstall(initialSlotState(), "a"), "b", 3);
    assert.deepEqual(nextBoot(s), { slot: "b", counts: true });
    const boot = powerOn(s);
    s = commitSlot(boot.state, boot.slot);
    assert.deepEqual(s.order, ["b", "a"]);
    assert.deepEqual(s.slots, {
      a: { health: "good", attemptsLeft: 0 },
      b: { health: "good", attemptsLeft: 0 },
    });
    assert.deepEqual(nextBoot(s), { slot: "b", counts: false });
  });

  it("a power cut during a trial boot costs an attempt, not the update", () => {
    let s = finishInstall(beginInstall(initialSlotState(), "a"), "b", 3);
    s = powerOn(s).state; // cut before the agent committed
    s = powerOn(s).state; // cut again
    const third = powerOn(s);
    assert.equal(third.slot, "b");
    assert.equal(commitSlot(third.state, "b").slots.b.health, "good");
  });

  it("out of attempts, the bootloader falls back; the agent then marks the failed slot bad", () => {
    let s = finishInstall(beginInstall(initialSlotState(), "a"), "b", 2);
    s = powerOn(s).state;
    s = powerOn(s).state;
    const fallback = powerOn(s);
    assert.equal(fallback.slot, "a");
    const settled = settleAfterBoot(fallback.state, "a");
    assert.equal(settled.fellBackFrom, "b");
    assert.deepEqual(settled.state.order, ["a", "b"]);
    assert.equal(settled.state.slots.b.health, "bad");
  });

  it("a rejected trial boots the other slot next; a dirty slot is never booted", () => {
    const trial = finishInstall(beginInstall(initialSlotState(), "a"), "b", 3);
    const rejected = rejectSlot(trial, "b");
    assert.deepEqual(nextBoot(rejected), { slot: "a", counts: false });
    assert.deepEqual(nextBoot(beginInstall(initialSlotState(), "a")), { slot: "a", counts: false });
  });

  it("never leaves nothing to boot: no install over the only committed slot, no rejection without a good fallback", () => {
    const trial = finishInstall(beginInstall(initialSlotState(), "a"), "b", 3);
    assert.throws(
      () => beginInstall(trial, "b"),
      (e: unknown) => e instanceof OtaRefusedError && /running slot b is trial/.test(e.message),
    );
    const onlyB = {
      ...trial,
      slots: { ...trial.slots, a: { health: "bad" as const, attemptsLeft: 0 } },
    };
    assert.throws(() => rejectSlot(onlyB, "b"), /would leave nothing to boot/);
    const exhausted: SlotState = {
      order: ["b", "a"],
      slots: { a: { health: "bad", attemptsLeft: 0 }, b: { health: "trial", attemptsLeft: 0 } },
    };
    assert.deepEqual(
      nextBoot(exhausted),
      { slot: "b", counts: false },
      "boots something rather than rebooting forever",
    );
  });

  it("the GRUB script counts down from the most attempts, finds the slot by PARTUUID and passes it to the kernel", () => {
    const cfg = renderGrubScript({
      partuuids: {
        a: "11111111-1111-1111-1111-111111111111",
        b: "22222222-2222-2222-2222-222222222222",
      },
      partitions: 4,
      console: "ttyS0,115200",
      serial: { unit: 0, speed: 115200 },
    });
    assert.match(cfg, /if \[ "\$left" = 9 \]; then next=8/);
    assert.match(cfg, /elif \[ "\$left" = 1 \]; then next=0/);
    assert.match(cfg, /save_env -f \$envfile B_LEFT/);
    assert.match(cfg, /for n in 1 2 3 4; do/);
    assert.match(cfg, /probe --set=pu --part-uuid/);
    assert.match(cfg, /root=PARTUUID=\$uuid .*outpost\.slot=\$chosen/);
    assert.match(cfg, /serial --unit=0 --speed=115200/);
  });
});
