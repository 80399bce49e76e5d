import { strict as assert } from "node:assert";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { runProbe } from "../../../agent/promises/probe.js";
import { parseProcAddress, parseProcNetTcp } from "../../../agent/promises/socket-owner.js";
import { spawn, type WatchedProcess } from "../../../native/index.js";

const NOBODY = 65534;

/** A TCP (and HTTP) server run as `nobody` on `host`; resolves its port. */
async function serveAsNobody(host: string): Promise<{ child: WatchedProcess; port: number }> {
  const child = spawn({
    command: process.execPath,
    args: [
      "-e",
      `const s = require("node:http").createServer((q, r) => r.end("impostor"));
       s.listen({ host: process.argv[1], port: 0 }, () => console.log(s.address().port));`,
      host,
    ],
    user: "nobody",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = (await once(createInterface(child.stdout as NodeJS.ReadableStream), "line")) as [
    string,
  ];
  return { child, port: Number(line) };
}

describe("promise checks know who answers (socket owner from /proc/net/tcp)", function () {
  this.timeout(20_000);
  const children: WatchedProcess[] = [];
  after(async () => {
    for (const c of children) {
      c.kill("SIGKILL");
      await c.exited;
    }
  });

  it("parses IPv4, v4-mapped and IPv6 addresses as the kernel prints them", () => {
    assert.deepEqual(parseProcAddress("0301007F:1F40"), { address: "127.0.1.3", port: 8000 });
    assert.deepEqual(parseProcAddress("0000000000000000FFFF00000301007F:0050"), {
      address: "127.0.1.3",
      port: 80,
    });
    assert.deepEqual(parseProcAddress("00000000000000000000000001000000:0016"), {
      address: "0:0:0:0:0:0:0:1",
      port: 22,
    });
    const rows = parseProcNetTcp(
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
        "   0: 0301007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 4242 1\n",
    );
    assert.deepEqual(rows, [
      {
        local: { address: "127.0.1.3", port: 8000 },
        remote: { address: "0.0.0.0", port: 0 },
        uid: 1001,
      },
    ]);
  });

  for (const bind of ["127.0.1.9", "::"]) {
    it(`an impostor's listener (${bind}, another uid) fails tcp and http promises for the address's owner`, async () => {
      const { child, port } = await serveAsNobody(bind);
      children.push(child);
      const owner = { address: "127.0.1.9", uid: 0 };
      const tcp = await runProbe({ kind: "tcp", host: "127.0.1.9", port, owner }, 2000);
      assert.equal(tcp.ok, false);
      assert.match(
        tcp.message ?? "",
        new RegExp(`answered by uid ${NOBODY}, not this partition's \\(uid 0\\)`),
      );
      const http = await runProbe({ kind: "http", url: `http://127.0.1.9:${port}/`, owner }, 2000);
      assert.equal(http.ok, false);
      assert.match(http.message ?? "", /answered by uid 65534/);
      const rightful = { address: "127.0.1.9", uid: NOBODY };
      assert.deepEqual(
        await runProbe({ kind: "tcp", host: "127.0.1.9", port, owner: rightful }, 2000),
        {
          ok: true,
        },
      );
      assert.deepEqual(
        await runProbe({ kind: "http", url: `http://127.0.1.9:${port}/`, owner: rightful }, 2000),
        { ok: true },
      );
    });
  }

  it("a check of another address (a dependency) is not held to the owner", async () => {
    const { child, port } = await serveAsNobody("127.0.1.10");
    children.push(child);
    const owner = { address: "127.0.1.9", uid: 0 };
    assert.deepEqual(await runProbe({ kind: "tcp", host: "127.0.1.10", port, owner }, 2000), {
      ok: true,
    });
  });
});
