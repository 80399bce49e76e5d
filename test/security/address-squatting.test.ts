import { strict as assert } from "node:assert";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { isPlaced } from "../../master/index.js";
import { repoRoot } from "../helpers/run-outpost.js";
import { eventually } from "../helpers/until.js";
import { HostileNode } from "./hostile-node.js";

const VICTIM_PORT = 7450;

/**
 * Tries every partition address, the box's loopback and the wildcards on the victim's
 * port, keeps whatever it got listening, and writes what each bind gave.
 */
const SQUATTER = `
import json, os, socket, time
port = int(os.environ["VICTIM_PORT"])
tries = [("127.0.1.%d" % n, socket.AF_INET) for n in range(1, 5)]
tries += [("127.0.0.1", socket.AF_INET), ("0.0.0.0", socket.AF_INET), ("::", socket.AF_INET6), ("::1", socket.AF_INET6)]
held, seen = [], {}
for address, family in tries:
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.bind((address, port))
        s.listen(8)
        held.append(s)
        seen[address] = s.getsockname()[0]
    except OSError as e:
        seen[address] = os.strerror(e.errno)
        s.close()
with open("bind-results.json.tmp", "w") as f:
    json.dump(seen, f)
os.rename("bind-results.json.tmp", "bind-results.json")
while True:
    time.sleep(60)
`;

function echoes(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => socket.write("who are you\n"));
    socket.setTimeout(3000, () => reject(new Error("timed out")));
    socket.once("data", (data) => {
      socket.destroy();
      resolve(data.toString());
    });
    socket.once("error", reject);
  });
}

describe("security: a partition binds only its own address", function () {
  this.timeout(120_000);
  const node = new HostileNode();

  before(() => node.start());
  after(() => node.close());

  it("a squatter gets none of the other partitions' addresses; the victim serves and passes its promise", async () => {
    const url = node.release(
      "squatter",
      `apiVersion: outpost/v1
name: squatter
version: 1.0.0
instance:
  processes:
    - name: squat
      command: ["/usr/bin/python3", "-c", ${JSON.stringify(SQUATTER)}]
      env: { VICTIM_PORT: "${VICTIM_PORT}" }
  promises:
    - { name: tried, file: bind-results.json, interval: 1s }
`,
    );
    await node.supplyAndRequest("squatter", url);
    const squatter = await node.ready("squatter");
    const own = `127.0.1.${squatter.partition + 1}`;
    const results = JSON.parse(
      readFileSync(
        join(node.agentData, "partitions", `p${squatter.partition + 1}`, "bind-results.json"),
        "utf8",
      ),
    ) as Record<string, string>;
    const refused = "Operation not permitted";
    // Its own address comes first; the wildcards are rewritten to it and find the port taken.
    const expected: Record<string, string> = {
      "127.0.0.1": refused,
      "0.0.0.0": "Address already in use",
      "::": "Address already in use",
      "::1": refused,
    };
    for (let n = 1; n <= 4; n++) expected[`127.0.1.${n}`] = `127.0.1.${n}` === own ? own : refused;
    assert.deepEqual(results, expected);

    const echo = join(node.tmp, "victim-release");
    mkdirSync(echo);
    for (const f of ["software.yaml", "echo.tar.gz"])
      copyFileSync(join(repoRoot, "test", "fixtures", "echo", f), join(echo, f));
    await node.supplyAndRequest("victim", join(echo, "software.yaml"), {
      port: String(VICTIM_PORT),
    });
    const victim = await node.ready("victim");
    const address = `127.0.1.${victim.partition + 1}`;
    assert.notEqual(address, own);
    assert.equal(victim.connection.url, `tcp://${address}:${VICTIM_PORT}`);
    assert.equal(await echoes(address, VICTIM_PORT), "who are you\n", "the victim itself answers");
    await eventually("squatter still running", 5_000, async () => {
      const s = await node.show("squatter");
      return s && isPlaced(s) && s.status === "running" ? true : undefined;
    });
    await node.stillConverging();
  });
});
