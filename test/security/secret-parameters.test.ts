import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { isPlaced, openDataDir, SECRET_MASK } from "../../master/index.js";
import { runOutpostAsync } from "../helpers/run-outpost.js";
import { eventually } from "../helpers/until.js";
import { factsOf, HostileNode } from "./hostile-node.js";

/** Whether /proc is mounted with hidepid here (then other tenants' pids are not even listed). */
function procHidesPids(): boolean {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((l) => l.split(" ")[4] === "/proc" && /hidepid=(?!0|off)/.test(l));
}

/** Every live process's command line, NULs as spaces (read as root). */
function commandLines(): string[] {
  const out: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      out.push(readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " "));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/**
 * A co-tenant that reads every command line and every environment it can, and tries the
 * other partitions' files, 10 times a second, keeping each distinct line it saw. Its
 * scan is one `cat` per round, so it cannot miss a process for lack of time.
 */
const SNOOP = `apiVersion: outpost/v1
name: snoop
version: 1.0.0
instance:
  files:
    - path: bin/snoop.sh
      mode: "0750"
      content: |
        : > seen
        n=0
        while :; do
          { cat /proc/[0-9]*/cmdline; cat /proc/[0-9]*/environ; cat ../p*/etc/vault.conf; } 2>/dev/null | tr '\\0' '\\n' > round
          sort -u round seen > seen.new
          mv seen.new seen
          n=$((n+1))
          echo $n > rounds
          sleep 0.1
        done
  processes:
    - { name: scan, command: ["/bin/sh", "bin/snoop.sh"] }
  promises:
    - { name: scanning, file: rounds, interval: 1s }
`;

/**
 * A release that keeps a password: in its environment and in a 0600 file, checked equal
 * by its process, published in a DSN. Its command line holds no secret.
 */
const VAULT = `apiVersion: outpost/v1
name: vault
version: 1.0.0
instance:
  parameters:
    type: object
    additionalProperties: false
    required: [password]
    properties:
      password: { type: string, minLength: 12, x-outpost-secret: true }
      user: { type: string, default: app }
  files:
    - { path: etc/vault.conf, mode: "0600", content: "password={{params.password}}\\n" }
    - path: bin/vault.sh
      mode: "0750"
      content: |
        test "$VAULT_PASSWORD" = "$(sed -n 's/^password=//p' etc/vault.conf)" || exit 3
        echo match > state
        exec /bin/sleep 3601
  processes:
    - name: server
      command: ["/bin/sh", "bin/vault.sh"]
      env: { VAULT_PASSWORD: "{{params.password}}" }
  promises:
    - { name: keyed, file: state, interval: 1s }
  publish:
    url: "tcp://{{partition.address}}:5432"
    dsn: "vault://{{params.user}}:{{params.password}}@{{partition.address}}:5432"
`;

/**
 * Issue 24: other tenants' command lines, and the secrets templated into them, were
 * readable by every partition in /proc/PID/cmdline, and the master showed every
 * parameter. Now a parameter marked `x-outpost-secret` never reaches a command line (a
 * release that puts it there is refused), and the master masks it everywhere.
 */
describe("security: a secret parameter stays out of /proc and out of what the master shows", function () {
  this.timeout(180_000);
  const secret = `s3cret-${randomBytes(12).toString("hex")}`;
  const logs: string[] = [];
  const node = new HostileNode({
    logger: pino(
      { level: "debug" },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          logs.push(chunk.toString("utf8"));
          done();
        },
      }),
    ),
  });
  const seenAsRoot: string[] = [];
  let watch: NodeJS.Timeout | undefined;

  before(async () => {
    await node.start();
    // Root reads every command line while the vault starts and runs: spawns, file
    // writes and promise checks included.
    watch = setInterval(() => {
      for (const line of commandLines()) if (line.includes(secret)) seenAsRoot.push(line);
    }, 50);
  });
  after(async () => {
    clearInterval(watch);
    await node.close();
  });

  const partitionDir = (partition: number) =>
    join(node.agentData, "partitions", `p${partition + 1}`);

  it("the secret reaches the vault's environment and file, never any command line: not the co-tenant's scan, not root's", async () => {
    await node.supplyAndRequest("snoop", node.release("snoop", SNOOP));
    const snoop = await node.ready("snoop");
    await node.supplyAndRequest("vault", node.release("vault", VAULT), {
      password: secret,
      user: "app",
    });
    const vault = await node.ready("vault");
    const rounds = () =>
      Number(readFileSync(join(partitionDir(snoop.partition), "rounds"), "utf8"));
    const after = rounds() + 20;
    await eventually("the co-tenant scanned 20 more times", 20_000, async () =>
      rounds() >= after ? true : undefined,
    );

    assert.deepEqual(seenAsRoot, [], "no command line ever held the secret");
    const seen = readFileSync(join(partitionDir(snoop.partition), "seen"), "utf8");
    assert.ok(!seen.includes(secret), "the co-tenant found it nowhere: cmdline, environ, files");
    assert.equal(
      seen.split("\n").includes("3601"),
      !procHidesPids(),
      "without hidepid the co-tenant did read the vault's command line (the scan works)",
    );
    // It is there: in the vault's own environment (readable by root and the vault's
    // account only) and in its 0600 file.
    const uid = node.partitionUid(vault.partition + 1);
    const { all } = node.processesOf(uid, vault.partition + 1);
    assert.ok(
      all.some((pid) =>
        readFileSync(`/proc/${pid}/environ`, "utf8")
          .split("\0")
          .includes(`VAULT_PASSWORD=${secret}`),
      ),
      "the vault's process has it in its environment",
    );
    const conf = join(partitionDir(vault.partition), "etc", "vault.conf");
    assert.deepEqual(factsOf(conf), { content: `password=${secret}\n`, uid, mode: 0o600 });
    assert.ok(!readFileSync(join(partitionDir(vault.partition), "state"), "utf8").includes(secret));
    assert.equal((await node.show("snoop"))?.status, "running", "the co-tenant still runs");
  });

  it("outpost show, the API, the status page and the logs never show it", async () => {
    const tokenFile = join(node.tmp, "master", "admin.token");
    const cli = async (...args: string[]) => {
      const r = await runOutpostAsync([
        ...args,
        "--master",
        node.master.url,
        "--token-file",
        tokenFile,
      ]);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    const text = await cli("show", "vault");
    assert.match(text, new RegExp(`^param +password=${SECRET_MASK.replaceAll("*", "\\*")}$`, "m"));
    assert.match(text, /^param +user=app$/m, "a parameter not secret is shown");
    assert.match(text, /^publishes +url=tcp:\/\/127\.0\.1\.\d+:5432$/m);
    assert.match(text, /^publishes +dsn=\*{8}$/m, "a published value built from it is masked");
    const json = await cli("show", "vault", "--json");
    const token = openDataDir(join(node.tmp, "master")).adminToken;
    const get = async (path: string) =>
      (
        await fetch(`${node.master.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
      ).text();
    const events = await fetch(`${node.master.url}/v1/events`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const reader = events.body?.getReader();
    const firstEvent = new TextDecoder().decode((await reader?.read())?.value);
    await reader?.cancel();
    assert.match(firstEvent, /"name":"vault"/);
    for (const [what, answer] of [
      ["outpost show", text],
      ["outpost show --json", json],
      ["GET /v1/instances", await get("/v1/instances")],
      ["GET /v1/instances/vault", await get("/v1/instances/vault")],
      ["GET /v1/status", await get("/v1/status")],
      ["GET /v1/events", firstEvent],
      ["master and agent logs (debug)", logs.join("")],
    ] as const)
      assert.ok(!answer.includes(secret), `${what} holds no secret`);
    assert.ok(logs.length > 0, "the logs were captured");
  });

  it("a release that puts the secret in a command line is refused, naming the process and the parameter; nothing of it runs", async () => {
    const url = node.release(
      "leaky",
      `apiVersion: outpost/v1
name: leaky
version: 1.0.0
instance:
  parameters:
    properties:
      password: { type: string, x-outpost-secret: true }
  processes:
    - { name: client, command: ["/bin/sleep", "3602", "--password={{params.password}}"] }
`,
    );
    await node.supplyAndRequest("leaky", url, { password: secret });
    const failed = await node.failed("leaky");
    const message = failed.promises.map((p) => p.message ?? "").join("\n");
    assert.match(
      message,
      /instance\.processes\[0\]\.command\[2\]: process 'client' puts secret parameter 'password' in its command line/,
    );
    assert.ok(!message.includes(secret));
    assert.equal(failed.parameters.password, SECRET_MASK, "masked: the node never read its keys");
    assert.ok(isPlaced(failed));
    assert.deepEqual(
      node.processesOf(node.partitionUid(failed.partition + 1), failed.partition + 1).all,
      [],
    );
    assert.ok(!commandLines().some((l) => l.includes("3602")), "never started");
    assert.deepEqual(seenAsRoot, []);
    await node.client.destroy("leaky");
    assert.equal((await node.show("vault"))?.status, "running", "the vault keeps running");
    assert.equal((await node.show("snoop"))?.status, "running", "the co-tenant keeps running");
    await node.stillConverging();
  });
});
