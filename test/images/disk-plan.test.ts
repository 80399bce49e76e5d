import { strict as assert } from "node:assert";
import { type Board, boardFile, boardSchema } from "../../boards/index.js";
import { loadConfigFile } from "../../cli/config/index.js";
import { planDisk, sfdiskScript } from "../../images/index.js";

const load = (id: string) => loadConfigFile<Board>(boardFile(id) as string, boardSchema);
const MiB = 2 ** 20;

describe("images/disk-plan: where partitions go and which ids they get", () => {
  it("lays partitions out back to back from firstOffsetMiB, with a MiB left for the backup GPT", () => {
    const plan = planDisk(load("qemu-x86_64"));
    assert.deepEqual(
      plan.partitions.map((p) => [p.label, p.offset / MiB, p.size / MiB]),
      [
        ["boot", 1, 64],
        ["rootfs-a", 65, 1536],
        ["rootfs-b", 1601, 1536],
        ["data", 3137, 256],
      ],
    );
    assert.equal(plan.size, (3137 + 256 + 1) * MiB);
  });

  it("pins every id: the same board gives the same ids, other boards and labels other ones", () => {
    const a = planDisk(load("qemu-x86_64"));
    assert.deepEqual(planDisk(load("qemu-x86_64")), a);
    const b = planDisk(load("generic-x86_64-uefi"));
    const ids = [a, b].flatMap((p) => [
      p.diskGuid,
      ...p.partitions.flatMap((q) => [q.partuuid, q.fsId]),
    ]);
    assert.equal(new Set(ids).size, ids.length, "no id repeats");
    for (const id of [a.diskGuid, ...a.partitions.map((p) => p.partuuid)]) {
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    assert.match(a.partitions[0]?.fsId ?? "", /^[0-9a-f]{8}$/, "a vfat volume id");
  });

  it("writes an sfdisk script with the table length, ESP type, PARTUUIDs and PARTLABELs", () => {
    const plan = planDisk(load("olimex-a20"));
    const script = sfdiskScript(plan);
    assert.match(script, /^label: gpt$/m);
    assert.match(script, /^table-length: 16$/m);
    assert.match(script, new RegExp(`^label-id: ${plan.diskGuid.toUpperCase()}$`, "m"));
    assert.match(
      script,
      /^start=2048, size=131072, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=[0-9A-F-]{36}, name="boot"$/m,
    );
    assert.equal(script.match(/type=0FC63DAF-8483-4772-8E79-3D69145C1279/g)?.length, 3);
  });
});
