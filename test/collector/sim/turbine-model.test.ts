import { strict as assert } from "node:assert";
import { TurbineModel, type TurbineState } from "../../../collector/sim/turbine-model.js";

function run(seed: number, steps: number): TurbineState[] {
  const model = new TurbineModel(seed, 100);
  return Array.from({ length: steps }, () => ({ ...model.step() }));
}

describe("collector sim turbine model", () => {
  it("gives the same sequence of states for the same seed and another for another seed", () => {
    assert.deepEqual(run(42, 500), run(42, 500));
    assert.notDeepEqual(run(42, 50), run(43, 50));
  });

  it("stays within a 2 MW turbine's physics over a simulated hour", () => {
    const states = run(7, 36_000);
    let energy = 0n;
    for (const s of states) {
      assert.ok(s.windSpeed >= 0 && s.windSpeed <= 32, `wind ${s.windSpeed}`);
      assert.ok(s.powerKw >= 0 && s.powerKw <= 2000 * 1.05, `power ${s.powerKw}`);
      assert.ok(s.rotorRpm >= 0 && s.rotorRpm <= 20, `rpm ${s.rotorRpm}`);
      assert.ok(s.pitchDeg >= 0 && s.pitchDeg <= 90, `pitch ${s.pitchDeg}`);
      if (!s.running) assert.equal(s.pitchDeg, 90, "feathered when stopped");
      assert.ok(s.energyWh >= energy, "the energy counter never goes back");
      energy = s.energyWh;
    }
    // An hour near 9 m/s mean wind produces something, well under an hour at rated power.
    assert.ok(energy > 0n && energy < 2_000_000n, `${energy} Wh`);
    assert.ok(states.some((s) => s.running));
  });
});
