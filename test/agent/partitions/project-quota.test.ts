import { strict as assert } from "node:assert";
import { mochaWithProjectQuota } from "../../helpers/kernel-vm.js";

// project-quota.ts needs a kernel with ext4 project quota, which the CI host may lack:
// its suite runs on this kernel if it has it, else in a VM's (kernel-vm.ts).
describe("agent project quota", function () {
  this.timeout(180_000);

  it("on a kernel with ext4 project quota: partitions labeled, links not followed, ids in use refused, writers held", async () => {
    const run = await mochaWithProjectQuota(
      ["test/agent/partitions/project-quota.prjquota.ts"],
      170_000,
    );
    assert.equal(run.status, 0, run.output.slice(-4000));
    assert.deepEqual({ passing: run.passing, failing: run.failing }, { passing: 3, failing: 0 });
  });
});
