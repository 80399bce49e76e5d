import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDescriptor, validateParameters } from "../../../agent/index.js";
import { repoRoot } from "../../helpers/run-outpost.js";

const echoUrl = join(repoRoot, "test", "fixtures", "echo", "software.yaml");
const echo = readFileSync(echoUrl, "utf8");

describe("software descriptor parsing", () => {
  it("accepts the example release and keeps its facets", () => {
    const d = parseDescriptor(echo, echoUrl);
    assert.equal(d.name, "echo");
    assert.equal(d.build?.fetch?.[0]?.extract, true);
    assert.equal(d.instance?.processes?.[0]?.restart, "always");
  });

  it("names an unknown key with a did-you-mean hint and the descriptor URL", () => {
    const bad = echo.replace("restart: always", "restrat: always");
    assert.throws(() => parseDescriptor(bad, "https://x/echo.yaml"), {
      code: "E_AGENT_DESCRIPTOR",
      message:
        /^software descriptor https:\/\/x\/echo\.yaml: instance\.processes\.0\.restrat: unknown key; did you mean 'restart'\?/,
    });
  });

  it("refuses a fetch without sha256", () => {
    const bad = echo.replace(/\n {6}sha256: [0-9a-f]+/, "");
    assert.throws(() => parseDescriptor(bad, "d.yaml"), {
      message: /build\.fetch\.0\.sha256: required key is missing/,
    });
  });

  it("refuses a bad restart policy, listing the allowed ones", () => {
    const bad = echo.replace("restart: always", "restart: sometimes");
    assert.throws(() => parseDescriptor(bad, "d.yaml"), {
      message: /instance\.processes\.0\.restart: must be one of always, on-failure, never/,
    });
  });

  it("refuses a promise with two probes or none", () => {
    const two = echo.replace('tcp: "', 'file: x, tcp: "');
    assert.throws(() => parseDescriptor(two, "d.yaml"), {
      message: /instance\.promises\.0: must match exactly one schema in oneOf/,
    });
  });

  it("refuses a file path that escapes the partition", () => {
    const bad = echo.replace("path: etc/echo.conf", "path: ../../etc/passwd");
    assert.throws(() => parseDescriptor(bad, "d.yaml"), { message: /instance\.files\.0\.path/ });
  });

  it("reports YAML syntax errors and a parameters schema that is not JSON Schema", () => {
    assert.throws(() => parseDescriptor("name: [unclosed", "d.yaml"), { message: /YAML: / });
    const badSchema = echo.replace("type: integer,", "type: integr,");
    assert.throws(() => parseDescriptor(badSchema, "d.yaml"), {
      message: /instance\.parameters: /,
    });
  });

  it("coerces the master's string parameters to the schema's types and fills defaults", () => {
    const d = parseDescriptor(echo, echoUrl);
    assert.deepEqual(validateParameters(d, "e1", { port: "7100" }), { port: 7100 });
    assert.deepEqual(validateParameters(d, "e1", {}), { port: 7000 });
  });

  it("names every bad parameter with the instance", () => {
    const d = parseDescriptor(echo, echoUrl);
    assert.throws(() => validateParameters(d, "e1", { port: "seventy", colour: "red" }), {
      code: "E_AGENT_PARAMETERS",
      message: /^instance e1: bad parameters: .*colour: unknown key.*port: must be integer/,
    });
  });
});
