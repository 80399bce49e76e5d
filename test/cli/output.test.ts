import { strict as assert } from "node:assert";
import { PassThrough } from "node:stream";
import type { CliIo } from "../../cli/io.js";
import { printState } from "../../cli/output.js";

function capture(): { io: CliIo; out: () => string } {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on("data", (c: Buffer) => chunks.push(c));
  return {
    io: { stdout, stderr: new PassThrough(), isTty: false },
    out: () => Buffer.concat(chunks).toString("utf8"),
  };
}

describe("printState", () => {
  const state = { node: "gw-1", bytes: 18446744073709551615n, cpus: [0, 1] };

  it("prints exactly one parseable JSON document with --json, 64-bit values exact", () => {
    const { io, out } = capture();
    printState(io, { json: true }, state, () => "human");
    const doc = JSON.parse(out()) as { bytes: string; node: string };
    assert.equal(doc.bytes, "18446744073709551615");
    assert.equal(doc.node, "gw-1");
  });

  it("prints the human rendering, newline-terminated, without --json", () => {
    const { io, out } = capture();
    printState(io, {}, state, (s) => `node ${s.node}`);
    assert.equal(out(), "node gw-1\n");
  });
});
