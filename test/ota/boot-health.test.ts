import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import {
  beginInstall,
  finishInstall,
  initialSlotState,
  type OtaConfig,
  renderGrubEnv,
  type SlotState,
  SlotStore,
  slotVars,
  watchBootHealth,
} from "../../ota/index.js";

const logger = pino({ level: "silent" });

describe("ota/boot-health: committing or rejecting a trial boot", () => {
  let dir: string;
  let store: SlotStore;

  function setUp(state: SlotState, booted: "a" | "b"): void {
    const env = join(dir, "grubenv");
    writeFileSync(env, renderGrubEnv(slotVars(state), env));
    writeFileSync(join(dir, "cmdline"), `root=PARTUUID=x outpost.slot=${booted}\n`);
    const config: OtaConfig = {
      board: "t",
      slotSelection: "grub-env",
      env,
      slots: {
        a: { device: "/dev/null", partuuid: "00000000-0000-0000-0000-00000000000a" },
        b: { device: "/dev/null", partuuid: "00000000-0000-0000-0000-00000000000b" },
      },
      key: "/dev/null",
      attempts: 3,
      healthWindowSeconds: 60,
    };
    store = new SlotStore(config, join(dir, "cmdline"));
  }

  const trialOfB = () => finishInstall(beginInstall(initialSlotState(), "a"), "b", 2);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-boot-health-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("commits the trial slot once healthy, without rebooting", async () => {
    setUp(trialOfB(), "b");
    let checks = 0;
    let rebooted = false;
    const watch = watchBootHealth({
      store,
      windowMs: 60_000,
      unhealthy: () => (++checks < 3 ? "the master has not been reached" : undefined),
      reboot: () => {
        rebooted = true;
      },
      logger,
      intervalMs: 10,
      uptimeSeconds: () => 5,
    });
    assert.equal(await watch.outcome, "committed");
    assert.equal(checks, 3);
    assert.equal(rebooted, false);
    assert.deepEqual(store.read().slots.b, { health: "good", attemptsLeft: 0 });
  });

  it("rejects the slot and reboots once the window since boot has passed", async () => {
    setUp(trialOfB(), "b");
    let up = 50;
    let rebooted = 0;
    const watch = watchBootHealth({
      store,
      windowMs: 60_000,
      unhealthy: () => "instance e1: promise listening fails",
      reboot: () => rebooted++,
      logger,
      intervalMs: 10,
      uptimeSeconds: () => (up += 5),
    });
    assert.equal(await watch.outcome, "rejected");
    assert.equal(rebooted, 1);
    assert.deepEqual(store.read().order, ["a", "b"]);
    assert.equal(store.read().slots.b.health, "bad");
  });

  it("after a bootloader fallback: the failed slot is marked bad and the running one goes first", async () => {
    const exhausted = trialOfB();
    exhausted.slots.b.attemptsLeft = 0;
    setUp(exhausted, "a");
    const watch = watchBootHealth({
      store,
      windowMs: 60_000,
      unhealthy: () => assert.fail("a committed slot is not checked"),
      reboot: () => assert.fail("no reboot"),
      logger,
    });
    assert.equal(await watch.outcome, "committed-already");
    assert.deepEqual(store.read().order, ["a", "b"]);
    assert.equal(store.read().slots.b.health, "bad");
  });

  it("a box not booted by the A/B script is left alone", async () => {
    setUp(trialOfB(), "b");
    writeFileSync(join(dir, "cmdline"), "root=/dev/sda1\n");
    const watch = watchBootHealth({
      store,
      windowMs: 1,
      unhealthy: () => "x",
      reboot: () => assert.fail(),
      logger,
    });
    assert.equal(await watch.outcome, "not-ab");
  });
});
