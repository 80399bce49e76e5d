import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type InstalledSoftware,
  parseDescriptor,
  partitionLayout,
  renderInstance,
  renderRequests,
} from "../../../agent/index.js";
import { repoRoot } from "../../helpers/run-outpost.js";

const url = join(repoRoot, "test", "fixtures", "echo", "software.yaml");
const text = readFileSync(url, "utf8");

function installed(descriptorText = text): InstalledSoftware {
  return {
    url,
    id: "0123456789abcdef0123",
    dir: "/data/software/0123456789abcdef0123",
    descriptor: parseDescriptor(descriptorText, url),
    installedAt: 0,
  };
}

const partition = partitionLayout(
  { root: "/data/partitions", logRoot: "/data/logs", userPrefix: "outpost-p" },
  3,
);

describe("instance rendering", () => {
  it("fills software, partition and typed parameters into files, processes, promises, publish", () => {
    const r = renderInstance("e1", installed(), partition, { port: "7100" });
    assert.deepEqual(r.parameters, { port: 7100 });
    assert.deepEqual(r.files, [
      { path: "/data/partitions/p3/etc/echo.conf", mode: 0o600, content: "port=7100\n" },
    ]);
    const [server] = r.processes;
    assert.equal(server?.command, "/data/software/0123456789abcdef0123/bin/echo-server");
    assert.deepEqual(server?.args, ["127.0.1.3", "7100"]);
    assert.equal(server?.restart, "always");
    assert.deepEqual(server?.limits, { cpuCores: 0.5, pidsMax: 32, memoryMax: 64 * 1024 * 1024 });
    assert.equal(server?.env.HOME, "/data/partitions/p3");
    assert.deepEqual(r.promises, [
      {
        name: "listening",
        probe: { kind: "tcp", host: "127.0.1.3", port: 7100 },
        intervalMs: 1000,
        timeoutMs: 1000,
      },
    ]);
    assert.deepEqual(r.publish, { url: "tcp://127.0.1.3:7100" });
  });

  it("uses schema defaults for parameters not given", () => {
    assert.deepEqual(renderInstance("e1", installed(), partition, {}).publish, {
      url: "tcp://127.0.1.3:7000",
    });
  });

  it("names an unknown template variable and where it is used", () => {
    const bad = text.replace("port={{params.port}}", "port={{params.prot}}");
    assert.throws(() => renderInstance("e1", installed(bad), partition, {}), {
      code: "E_AGENT_TEMPLATE",
      message: "instance.files[0].content: unknown template variable '{{params.prot}}'",
    });
  });

  it("refuses a parameter that would move a file out of the partition", () => {
    const bad = text
      .replace("path: etc/echo.conf", "path: '{{params.dir}}/echo.conf'")
      .replace(/ *additionalProperties: false\n/, "")
      .replace("port: { type: integer", "dir: { type: string }\n      port: { type: integer");
    assert.throws(() => renderInstance("e1", installed(bad), partition, { dir: "../../etc" }), {
      code: "E_AGENT_DESCRIPTOR",
      message: /instance\.files\[0\]\.path: '\/data\/etc\/echo\.conf' is outside the partition/,
    });
  });

  it("refuses a memory limit that is not a size", () => {
    const bad = text.replace("memory: 64Mi", "memory: lots");
    assert.throws(() => renderInstance("e1", installed(bad), partition, {}), {
      message: /instance\.processes\[0\]\.resources\.memory: 'lots' is not a size/,
    });
  });

  it("resolves a process's realtime: block into its scheduling, rlimits and cores", () => {
    const plc = text.replace(
      "resources: { cpu: 0.5, memory: 64Mi, pids: 32 }",
      "resources: { pids: 32 }\n      realtime: { profile: plc, priority: 70 }",
    );
    const rt = renderInstance("e1", installed(plc), partition, {}).processes[0]?.realtime;
    assert.equal(rt?.cores, 1);
    assert.deepEqual(rt?.sched, { policy: "fifo", priority: 70 });
    assert.deepEqual(
      rt?.rlimits.rtprio,
      { soft: 80, hard: 80 },
      "the profile's ceiling stays above",
    );
    assert.equal(rt?.rlimits.memlock.hard, Number.POSITIVE_INFINITY);
    assert.equal(
      renderInstance("e1", installed(), partition, {}).processes[0]?.realtime,
      undefined,
    );
  });

  it("refuses a realtime: block that contradicts itself, naming the field", () => {
    const shared = text.replace(
      "resources: { cpu: 0.5, memory: 64Mi, pids: 32 }",
      "realtime: { profile: plc, cores: 0 }",
    );
    assert.throws(() => renderInstance("e1", installed(shared), partition, {}), {
      code: "E_AGENT_DESCRIPTOR",
      message: /instance\.processes\[0\]\.realtime\.cores: fifo on shared cores starves them/,
    });
    const unknown = text.replace(
      "resources: { cpu: 0.5, memory: 64Mi, pids: 32 }",
      "realtime: { profile: gnb }",
    );
    assert.throws(() => installed(unknown), {
      code: "E_AGENT_DESCRIPTOR",
      message:
        /instance\.processes\.0\.realtime\.profile: must be one of sdr-gnb, plc, best-effort/,
    });
  });

  it("renders the instances it requests against its own URL, and their connection as requests.*", () => {
    const feUrl = join(repoRoot, "test", "fixtures", "frontend", "software.yaml");
    const fe: InstalledSoftware = {
      ...installed(),
      url: feUrl,
      descriptor: parseDescriptor(readFileSync(feUrl, "utf8"), feUrl),
    };
    assert.deepEqual(renderRequests("fe", fe, partition, { backendPort: "7400" }), [
      {
        name: "backend",
        software: `file://${join(repoRoot, "test", "fixtures", "echo", "software.yaml")}`,
        parameters: { port: "7400" },
      },
    ]);
    const r = renderInstance("fe", fe, partition, {}, { backend: { url: "tcp://127.0.1.2:7010" } });
    assert.deepEqual(r.publish, { backend: "tcp://127.0.1.2:7010" });
    assert.equal(r.files[0]?.content, "tcp://127.0.1.2:7010\n");
    assert.throws(() => renderInstance("fe", fe, partition, {}), {
      code: "E_AGENT_TEMPLATE",
      message: /requests\.backend\.url/,
    });
    assert.deepEqual(renderRequests("e1", installed(), partition, {}), []);
  });

  it("renders a secret into env and files, names the request parameters that carry it, and refuses a descriptor that would put it in argv", () => {
    const vault = [
      "apiVersion: outpost/v1",
      "name: vault",
      "version: '1'",
      "instance:",
      "  parameters:",
      "    properties: { password: { type: string, x-outpost-secret: true } }",
      "  files: [{ path: etc/pw, mode: '0600', content: '{{params.password}}' }]",
      "  processes:",
      "    - { name: server, command: [/bin/vault], env: { PW: '{{params.password}}' } }",
      "  requests:",
      "    - { name: cache, software: ../cache.yaml, parameters: { auth: '{{params.password}}' } }",
      "",
    ].join("\n");
    const sw = installed(vault);
    const r = renderInstance("v", sw, partition, { password: "hunter2" });
    assert.equal(r.processes[0]?.env.PW, "hunter2");
    assert.deepEqual(r.processes[0]?.args, []);
    assert.equal(r.files[0]?.content, "hunter2");
    assert.deepEqual(renderRequests("v", sw, partition, { password: "hunter2" })[0]?.secrets, [
      "auth",
    ]);
    // A descriptor that escaped the parse-time check is still refused when rendered.
    const leaky = structuredClone(sw.descriptor);
    leaky.instance?.processes?.[0]?.command.push("{{params.password}}");
    assert.throws(
      () => renderInstance("v", { ...sw, descriptor: leaky }, partition, { password: "x" }),
      {
        code: "E_AGENT_SECRET",
        message: /process 'server' puts secret parameter 'password' in its command line/,
      },
    );
  });
});
