import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { refuseBlockDevice } from "../../images/index.js";

/** The first whole disk sysfs lists with nothing (dm, md) stacked on it or its partitions. */
function aDisk(): string {
  const name = readdirSync("/sys/block").find(
    (d) =>
      !d.startsWith("loop") &&
      !d.startsWith("ram") &&
      [d, ...readdirSync(`/sys/block/${d}`).filter((e) => e.startsWith(d))].every(
        (e) =>
          readdirSync(e === d ? `/sys/block/${d}/holders` : `/sys/block/${d}/${e}/holders`)
            .length === 0,
      ),
  );
  assert.ok(name, "no disk in /sys/block");
  return readFileSync(`/sys/block/${name}/dev`, "utf8").trim();
}

const mountinfo = (rootDev: string, others: [string, string][] = []) =>
  [
    `22 1 ${rootDev} / / rw,relatime - ext4 /dev/root rw`,
    ...others.map(([dev, at], i) => `${30 + i} 22 ${dev} / ${at} rw - ext4 /dev/x rw`),
  ].join("\n");

describe("images/flash-target: which block devices flash refuses", () => {
  it("refuses the disk / is on", () => {
    const disk = aDisk();
    assert.equal(refuseBlockDevice(disk, mountinfo(disk))?.reason, "root-disk");
  });

  it("refuses a disk that is mounted elsewhere when / is on another device", () => {
    const disk = aDisk();
    const refusal = refuseBlockDevice(disk, mountinfo("0:99", [[disk, "/mnt/usb"]]));
    assert.deepEqual(refusal, { reason: "mounted", detail: `${disk} is mounted` });
  });

  it("lets through a disk nothing mounts and nothing holds", () => {
    assert.equal(refuseBlockDevice(aDisk(), mountinfo("0:99")), undefined);
  });
});
