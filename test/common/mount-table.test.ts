import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { parseMountinfo, parseMounts } from "../../common/index.js";

describe("common/mount-table", () => {
  it("reads /proc/self/mounts lines, unescaping the kernel's octal escapes", () => {
    assert.deepEqual(
      parseMounts(
        [
          "proc /proc proc rw,nosuid,relatime,hidepid=invisible 0 0",
          "/dev/sdb1 /media/my\\040disk ext4 rw,prjquota 0 0",
          "",
          "short line",
        ].join("\n"),
      ),
      [
        {
          source: "proc",
          mountPoint: "/proc",
          fsType: "proc",
          options: ["rw", "nosuid", "relatime", "hidepid=invisible"],
        },
        {
          source: "/dev/sdb1",
          mountPoint: "/media/my disk",
          fsType: "ext4",
          options: ["rw", "prjquota"],
        },
      ],
    );
  });

  it("reads /proc/self/mountinfo lines: device, root, optional fields, the mount's then the filesystem's options", () => {
    assert.deepEqual(
      parseMountinfo(
        [
          "22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw,errors=remount-ro",
          "36 22 0:31 /sub /mnt/a\\040b rw,nosuid master:1 shared:7 - tmpfs tmp rw,size=1024k",
          "40 22 0:5 / /proc rw - proc proc rw,hidepid=invisible",
          "no separator here at all",
        ].join("\n"),
      ),
      [
        {
          source: "/dev/sda2",
          mountPoint: "/",
          fsType: "ext4",
          options: ["rw", "relatime", "rw", "errors=remount-ro"],
          dev: "8:2",
          root: "/",
        },
        {
          source: "tmp",
          mountPoint: "/mnt/a b",
          fsType: "tmpfs",
          options: ["rw", "nosuid", "rw", "size=1024k"],
          dev: "0:31",
          root: "/sub",
        },
        {
          source: "proc",
          mountPoint: "/proc",
          fsType: "proc",
          options: ["rw", "rw", "hidepid=invisible"],
          dev: "0:5",
          root: "/",
        },
      ],
    );
  });

  it("reads this machine's mountinfo: / has a device number", () => {
    const live = parseMountinfo(readFileSync("/proc/self/mountinfo", "utf8"));
    const root = live.findLast((m) => m.mountPoint === "/")?.dev;
    assert.ok(root, "/ has a device number");
    assert.match(root, /^\d+:\d+$/);
  });
});
