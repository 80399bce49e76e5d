import { strict as assert } from "node:assert";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { browse } from "../../../collector/index.js";
import { repoRoot } from "../../helpers/run-outpost.js";
// For its side effect: node-opcua's own log lines go to a silent logger.
import "../fixtures.js";
import { type Peer, startPeer } from "../peers/peer-process.js";

const SECURED = join(repoRoot, "test", "collector", "peers", "opcua-secured-server.ts");

interface Failure {
  code?: string;
  message: string;
  certificateFile?: string;
}

async function failureOf(p: Promise<unknown>): Promise<Failure> {
  try {
    await p;
  } catch (err) {
    return err as Failure;
  }
  assert.fail("expected the connection to fail");
}

describe("OPC-UA connect errors against a server with only a secured endpoint", function () {
  this.timeout(120_000);
  let dir: string;
  let server: Peer;
  let endpoint: string;
  let clientDir: string;

  /** The server, on its data dir (its PKI persists over a restart). */
  async function startServer(): Promise<void> {
    server = await startPeer(
      process.execPath,
      ["--import", "tsx", SECURED, JSON.stringify({ dataDir: join(dir, "server") })],
      { timeoutMs: 60_000 },
    );
    endpoint = server.hello.endpoint as string;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "outpost-opcua-connect-"));
    clientDir = join(dir, "collector");
    await startServer();
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const secured = { mode: "SignAndEncrypt" as const, policy: "Basic256Sha256" };
  const browseWith = (security?: typeof secured) =>
    browse(endpoint, { dataDir: clientDir, depth: 1, security, timeoutMs: 5000 });

  it("security None: E_OPCUA_ENDPOINT listing the endpoints the server offers and the flags to pass", async () => {
    const err = await failureOf(browseWith());
    assert.equal(err.code, "E_OPCUA_ENDPOINT", err.message);
    assert.equal(
      err.message,
      `${endpoint}: the server has no endpoint for security None; it offers SignAndEncrypt/Basic256Sha256: pass --security-mode SignAndEncrypt --security-policy Basic256Sha256`,
    );
  });

  it("walks the two certificate refusals to a working connection, each error naming the file to move or copy", async () => {
    // 1. The collector does not trust the server: the error names the saved file.
    const untrusted = await failureOf(browseWith(secured));
    assert.equal(untrusted.code, "E_OPCUA_UNTRUSTED", untrusted.message);
    const saved = untrusted.certificateFile as string;
    assert.equal(join(clientDir, "pki", "rejected", basename(saved)), saved);
    assert.ok(existsSync(saved), saved);
    assert.ok(
      untrusted.message.includes(
        `it was saved as ${saved}: move it into ${join(clientDir, "pki", "trusted", "certs")}`,
      ),
      untrusted.message,
    );
    renameSync(saved, join(clientDir, "pki", "trusted", "certs", basename(saved)));

    // 2. The server does not trust the collector: the error names the collector's certificate.
    const refused = await failureOf(browseWith(secured));
    assert.equal(refused.code, "E_OPCUA_CERT_REFUSED", refused.message);
    const own = join(clientDir, "pki", "own", "certs", "client_certificate.pem");
    assert.equal(refused.certificateFile, own);
    assert.ok(existsSync(own));
    assert.match(
      refused.message,
      new RegExp(
        `the server refused the collector's certificate \\(BadSecurityChecksFailed\\): copy ${own.replace(/[.[\]]/g, "\\$&")} into the server's trusted certificates`,
      ),
    );
    // What an operator does on a node-opcua server, which, like the collector, keeps the
    // certificate it refused in rejected/ and lets that copy win over one in trusted/.
    const serverPki = join(server.hello.trustedDir as string, "..", "..");
    const [refusedCopy] = readdirSync(join(serverPki, "rejected"));
    assert.ok(refusedCopy, "the server kept the certificate it refused");
    rmSync(join(serverPki, "rejected", refusedCopy));
    copyFileSync(own, join(server.hello.trustedDir as string, "outpost-collector.pem"));

    // node-opcua's folder watcher may not have seen the refused file before it went (then
    // it keeps refusing from memory): a restart reads the folders afresh.
    await server.stop();
    await startServer();

    // 3. Both trust each other: the tree comes.
    const tree = await browseWith(secured);
    assert.ok(
      tree.children.some((c) => c.nodeId === "ns=1;s=Secret"),
      JSON.stringify(tree),
    );
  });
});
