import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type NatsServer, startNats, telemetryStream } from "../helpers/nats-server.js";
import { runOutpostAsync } from "../helpers/run-outpost.js";
import { eventually } from "../helpers/until.js";
import { MasterHarness } from "../master/master-harness.js";
import { followUntilPrinted, publishingNode, secretFile } from "./nats-login-fixtures.js";

const TOKEN = "s3cret-token";

/**
 * NATS that asks for a token: the master and `telemetry follow` take it from a file
 * (0600) or OUTPOST_NATS_TOKEN, never from the URL.
 */
describe("NATS token login", function () {
  this.timeout(120_000);
  let nats: NatsServer;
  let h: MasterHarness;
  let dir: string;
  before(async () => {
    nats = await startNats({ token: TOKEN });
    dir = mkdtempSync(join(tmpdir(), "outpost-nats-token-"));
    h = await new MasterHarness().start({
      nats: { url: nats.url, token: TOKEN, publisher: { idleMs: 100 } },
    });
  });
  after(async () => {
    await h?.close();
    await nats?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const tokenFile = (name: string, content: string, mode: number) =>
    secretFile(dir, name, content, mode);

  it("publishes with the token, and follow reads with it from a file or the environment", async () => {
    const publish = await publishingNode(h);
    await publish();
    await eventually("published", 20_000, async () =>
      (await telemetryStream(nats, TOKEN)).length === 1 ? true : undefined,
    );
    const file = tokenFile("ok", `${TOKEN}\n`, 0o600);
    for (const [args, env] of [
      [["--nats-token-file", file], {}],
      [[], { OUTPOST_NATS_TOKEN: TOKEN }],
    ] as const) {
      const followed = await followUntilPrinted(["--nats", nats.url, ...args], env, publish, " d ");
      assert.equal(followed.status, 0, followed.stderr);
    }
  });

  it("refuses a wrong token (NATS says so), and a token file others may read", async () => {
    const wrong = tokenFile("wrong", "nope", 0o600);
    const r = await runOutpostAsync([
      ...["telemetry", "follow", "--nats", nats.url, "--nats-token-file", wrong],
    ]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      /^outpost: cannot use NATS at .*[Aa]uthorization.*\[E_MASTER_NATS_UNAVAILABLE\]/,
    );
    const open = tokenFile("open", TOKEN, 0o644);
    for (const command of [
      ["telemetry", "follow", "--nats", nats.url],
      ["master", "start", "--data", join(dir, "m"), "--nats", nats.url],
    ]) {
      const refused = await runOutpostAsync([...command, "--nats-token-file", open]);
      assert.equal(refused.status, 2, refused.stderr);
      assert.match(
        refused.stderr,
        new RegExp(
          `^outpost: --nats-token-file: ${open} may be read by group or others; chmod 600`,
        ),
      );
    }
  });
});
