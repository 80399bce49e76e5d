import { strict as assert } from "node:assert";
import { createServer, type Server } from "node:net";
import { text } from "node:stream/consumers";
import { guardAddress } from "../../../agent/partitions/bind-guard.js";
import { bind4Guard, bind6Guard } from "../../../agent/partitions/bind-guard-program.js";
import { Cgroup, spawn } from "../../../native/index.js";

/** Binds each [family, address] on port 0 and prints what the kernel made of it. */
const BINDER = `
const net = require("node:net");
const tries = JSON.parse(process.argv[1]);
(async () => {
  const out = {};
  for (const address of tries) {
    out[address] = await new Promise((resolve) => {
      const s = net.createServer();
      s.once("error", (e) => resolve(e.code));
      s.listen({ host: address, port: Number(process.argv[2] ?? 0) }, () => {
        const a = s.address();
        s.close(() => resolve(a.address));
      });
    });
  }
  process.stdout.write(JSON.stringify(out));
})();
`;

async function bindsIn(
  group: Cgroup,
  addresses: string[],
  port = 0,
): Promise<Record<string, string>> {
  const child = spawn({
    command: process.execPath,
    args: ["-e", BINDER, JSON.stringify(addresses), String(port)],
    cgroup: group,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const out = await text(child.stdout as NodeJS.ReadableStream);
  await child.exited;
  return JSON.parse(out) as Record<string, string>;
}

describe("partition address guard (cgroup bind hooks)", function () {
  this.timeout(20_000);
  let group: Cgroup;
  before(() => {
    group = Cgroup.own().createChild(`outpost-test-bind-guard-${process.pid}`);
  });
  after(() => group.remove());

  it("programs are whole instructions and differ only in the address", () => {
    for (const program of [bind4Guard("127.0.1.3"), bind6Guard("127.0.1.3")])
      assert.equal(program.length % 8, 0);
    assert.notDeepEqual(bind4Guard("127.0.1.3"), bind4Guard("127.0.1.4"));
    assert.equal(bind4Guard("127.0.1.3").length, bind4Guard("127.0.1.200").length);
    assert.throws(() => bind4Guard("127.0.1"), /not an IPv4 address/);
  });

  it("a process of the group binds its own address; any other is refused; wildcards land on its own", async () => {
    assert.deepEqual(guardAddress(group, "127.0.1.3"), { mode: "bpf" });
    const seen = await bindsIn(group, [
      "127.0.1.3",
      "127.0.1.4",
      "127.0.1.200",
      "127.0.0.1",
      "0.0.0.0",
      "::",
      "::1",
      "::ffff:127.0.1.3",
      "::ffff:127.0.1.4",
    ]);
    assert.deepEqual(seen, {
      "127.0.1.3": "127.0.1.3",
      "127.0.1.4": "EPERM",
      "127.0.1.200": "EPERM",
      "127.0.0.1": "EPERM",
      "0.0.0.0": "127.0.1.3",
      "::": "::ffff:127.0.1.3",
      "::1": "EPERM",
      "::ffff:127.0.1.3": "::ffff:127.0.1.3",
      "::ffff:127.0.1.4": "EPERM",
    });
  });

  it("holds for groups below the partition's, and a later guard (agent restart) replaces the first", async () => {
    const below = group.createChild("process-x");
    try {
      assert.deepEqual(guardAddress(group, "127.0.1.7"), { mode: "bpf" });
      const seen = await bindsIn(below, ["127.0.1.7", "127.0.1.3", "0.0.0.0"]);
      assert.deepEqual(seen, {
        "127.0.1.7": "127.0.1.7",
        "127.0.1.3": "EPERM",
        "0.0.0.0": "127.0.1.7",
      });
    } finally {
      await below.remove();
    }
  });

  it("a squatter cannot take a port another partition serves on, and never its address", async () => {
    const victim: Server = createServer();
    await new Promise<void>((r) => victim.listen(0, "127.0.1.9", r));
    const port = (victim.address() as { port: number }).port;
    try {
      guardAddress(group, "127.0.1.3");
      const seen = await bindsIn(group, ["127.0.1.9", "0.0.0.0", "::"], port);
      assert.deepEqual(seen, {
        "127.0.1.9": "EPERM",
        "0.0.0.0": "127.0.1.3",
        "::": "::ffff:127.0.1.3",
      });
    } finally {
      victim.close();
    }
  });

  it("a group outside the unified tree has no guard, and says why", () => {
    const noUnified = new Cgroup(group.layout, { ...group.dirs, unified: undefined });
    assert.deepEqual(guardAddress(noUnified, "127.0.1.3"), {
      mode: "none",
      reason: "no cgroup2 hierarchy is mounted",
    });
  });
});
