import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nkeys } from "@nats-io/transport-node";
import { type NatsServer, startNats } from "../helpers/nats-server.js";
import { runOutpostAsync } from "../helpers/run-outpost.js";
import { makeTlsFiles, type TlsFiles } from "../helpers/tls-files.js";
import { MasterHarness } from "../master/master-harness.js";
import { followUntilPrinted, publishingNode, secretFile } from "./nats-login-fixtures.js";

/**
 * NATS as a production cluster runs it: TLS with a CA of its own that verifies clients'
 * certificates too, and users listed by nkey. The master publishes through it and
 * `telemetry follow` reads through it, each given the CA, a client certificate and a
 * seed file.
 */
describe("NATS over TLS, users by nkey", function () {
  this.timeout(120_000);
  let nats: NatsServer;
  let h: MasterHarness;
  let dir: string;
  let tls: TlsFiles;
  let seedFile: string;
  let seed: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "outpost-nats-tls-"));
    tls = makeTlsFiles(join(dir, "tls"));
    const user = nkeys.createUser();
    seed = new TextDecoder().decode(user.getSeed());
    seedFile = secretFile(dir, "user.nk", `${seed}\n`, 0o600);
    nats = await startNats({
      config: `tls {
        cert_file: "${tls.serverCert}"
        key_file: "${tls.serverKey}"
        ca_file: "${tls.ca}"
        verify: true
      }
      authorization { users = [ { nkey: "${user.getPublicKey()}" } ] }
      `,
    });
    h = await new MasterHarness().start({
      nats: {
        url: nats.url,
        nkeySeed: seed,
        tls: {
          ca: readFileSync(tls.ca, "utf8"),
          cert: readFileSync(tls.clientCert, "utf8"),
          key: readFileSync(tls.clientKey, "utf8"),
        },
        publisher: { idleMs: 100 },
      },
    });
  });
  after(async () => {
    await h?.close();
    await nats?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const login = () => [
    ...["--nats-ca", tls.ca, "--nats-cert", tls.clientCert, "--nats-key", tls.clientKey],
    ...["--nats-nkey-file", seedFile],
  ];

  it("the master publishes and follow reads, both over verified TLS and logged in by nkey", async () => {
    const followed = await followUntilPrinted(
      ["--nats", nats.url, ...login()],
      {},
      await publishingNode(h),
      " d ",
    );
    assert.equal(followed.status, 0, followed.stderr);
  });

  it("fails a server its CA did not sign, no client certificate, or another user's seed, saying why", async () => {
    const stranger = secretFile(
      dir,
      "stranger.nk",
      new TextDecoder().decode(nkeys.createUser().getSeed()),
      0o600,
    );
    for (const [args, why] of [
      [["--nats-ca", tls.strangerCa, "--nats-nkey-file", seedFile], /certificate/i],
      // The server drops the handshake; the client only sees it time out.
      [["--nats-ca", tls.ca, "--nats-nkey-file", seedFile], /--nats-cert and --nats-key where/],
      [login().map((a) => (a === seedFile ? stranger : a)), /[Aa]uthorization/],
    ] as const) {
      const r = await runOutpostAsync(["telemetry", "follow", "--nats", nats.url, ...args]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^outpost: cannot use NATS at 127\.0\.0\.1:\d+/);
      assert.match(r.stderr, /\[E_MASTER_NATS_UNAVAILABLE\]/);
      assert.match(r.stderr, why);
    }
  });

  it("refuses before connecting: a seed others may read or not a seed, two logins, half a client pair, a file with no PEM", async () => {
    const open = secretFile(dir, "open.nk", seed, 0o644);
    const notSeed = secretFile(dir, "not-a-seed.nk", "SUnot-a-seed", 0o600);
    const token = secretFile(dir, "token", "t", 0o600);
    const notPem = secretFile(dir, "ca.txt", "hello", 0o644);
    const cases: [string[], RegExp][] = [
      [
        ["--nats-nkey-file", open],
        new RegExp(`^outpost: --nats-nkey-file: ${open} may be read by group or others; chmod 600`),
      ],
      [
        ["--nats-nkey-file", notSeed],
        /^outpost: --nats-nkey-file: .*not-a-seed\.nk does not hold a NATS user nkey seed/,
      ],
      [
        ["--nats-nkey-file", seedFile, "--nats-token-file", token],
        /^outpost: --nats-token-file and --nats-nkey-file: a NATS user logs in by one of them/,
      ],
      [["--nats-cert", tls.clientCert], /^outpost: --nats-cert and --nats-key: give both/],
      [
        ["--nats-ca", notPem],
        new RegExp(`^outpost: --nats-ca: ${notPem} holds no PEM certificate`),
      ],
    ];
    for (const command of [
      ["telemetry", "follow", "--nats", nats.url],
      ["master", "start", "--data", join(dir, "m"), "--nats", nats.url],
    ])
      for (const [args, why] of cases) {
        const r = await runOutpostAsync([...command, ...args]);
        assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, why);
        assert.ok(!r.stderr.includes(seed), "the seed was printed");
      }
  });
});
