import { strict as assert } from "node:assert";
import { mochaWithProjectQuota } from "../helpers/kernel-vm.js";

// The project-quota path of the disk flood needs ext4 project quota, which the CI host's
// kernel may lack: resource-floods.prjquota.ts runs on this kernel if it has it, else in
// a VM's (kernel-vm.ts), where the whole master + agent + partitions run as root.
describe("security: disk floods on a data filesystem with project quota", function () {
  this.timeout(240_000);

  it("a disk filler with no resources is held by its project quota; the others keep running", async () => {
    const run = await mochaWithProjectQuota(["test/security/resource-floods.prjquota.ts"], 230_000);
    assert.equal(run.status, 0, run.output.slice(-4000));
    assert.deepEqual({ passing: run.passing, failing: run.failing }, { passing: 1, failing: 0 });
  });
});
