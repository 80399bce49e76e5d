import { strict as assert } from "node:assert";
import {
  parseDescriptor,
  reportedSecretKeys,
  requestSecretKeys,
  secretKeys,
  secretParameters,
  secretProblems,
} from "../../../agent/index.js";

const head = [
  "apiVersion: outpost/v1",
  "name: db",
  "version: '1'",
  "instance:",
  "  parameters:",
  "    type: object",
  "    properties:",
  "      port: { type: integer, default: 5432 }",
  "      password: { type: string, x-outpost-secret: true }",
  "      token: { type: string, x-outpost-secret: true }",
];

function descriptor(...instance: string[]) {
  return parseDescriptor([...head, ...instance, ""].join("\n"), "db.yaml");
}

function problems(...instance: string[]): string[] {
  try {
    descriptor(...instance);
    return [];
  } catch (err) {
    assert.equal((err as { code?: string }).code, "E_AGENT_SECRET", (err as Error).message);
    return [...(err as { issues: string[] }).issues];
  }
}

describe("secret parameters (x-outpost-secret)", () => {
  it("lists the secret parameters; environment, file contents, publish and requests may use them", () => {
    const d = descriptor(
      "  files:",
      '    - { path: etc/db.conf, mode: "0600", content: "password={{params.password}}\\n" }',
      "  processes:",
      "    - name: server",
      '      command: ["/bin/db", "--port", "{{params.port}}"]',
      '      env: { DB_TOKEN: "{{ params.token }}" }',
      "  publish:",
      '    url: "tcp://{{partition.address}}:{{params.port}}"',
      '    dsn: "db://u:{{params.password}}@{{partition.address}}"',
      "  requests:",
      "    - name: cache",
      "      software: ../cache/software.yaml",
      '      parameters: { auth: "{{params.token}}", size: "64" }',
    );
    assert.deepEqual(secretParameters(d), ["password", "token"]);
    assert.deepEqual(secretKeys(d), { parameters: ["password", "token"], connection: ["dsn"] });
    assert.deepEqual(requestSecretKeys(d, 0), ["auth"]);
    assert.deepEqual(secretProblems(d), []);
  });

  it("refuses a secret in a process's or a command promise's argv, naming the process and the parameter", () => {
    assert.deepEqual(
      problems(
        "  processes:",
        "    - name: server",
        '      command: ["/bin/db", "--password={{params.password}}"]',
        "  promises:",
        "    - name: auth",
        '      command: ["/bin/check", "{{params.token}}"]',
      ),
      [
        "instance.processes[0].command[1]: process 'server' puts secret parameter 'password' in its command line: a command line is readable by every process on the node (/proc/PID/cmdline); pass it in env or in a file",
        "instance.promises[0].command[1]: promise 'auth' puts secret parameter 'token' in its command line: a command line is readable by every process on the node (/proc/PID/cmdline); pass it in env or in a file",
      ],
    );
  });

  it("refuses a secret in a promise's target, in a file name, and in a file others may read", () => {
    assert.deepEqual(
      problems(
        "  files:",
        '    - { path: "etc/{{params.token}}", content: "x" }',
        '    - { path: etc/db.conf, mode: "0644", content: "{{params.password}}" }',
        "  promises:",
        '    - { name: up, http: "http://u:{{params.password}}@127.0.0.1/" }',
      ),
      [
        "instance.promises[0].http: promise 'up' uses secret parameter 'password' in its target, which its result shows at the master",
        "instance.files[0].path: uses secret parameter 'token' in a file name, which errors and listings show; put it in the file's content",
        "instance.files[1].mode: 'etc/db.conf' holds secret parameter 'password' but mode 0644 lets every account read it; use 0600 or 0640",
      ],
    );
  });

  it("refuses the keyword anywhere but on a top-level parameter, where nothing would mask it", () => {
    assert.throws(
      () =>
        parseDescriptor(
          [
            "apiVersion: outpost/v1",
            "name: db",
            "version: '1'",
            "instance:",
            "  parameters:",
            "    properties:",
            "      db:",
            "        type: object",
            "        properties: { password: { type: string, x-outpost-secret: true } }",
            "",
          ].join("\n"),
          "db.yaml",
        ),
      {
        code: "E_AGENT_SECRET",
        message:
          /instance\.parameters\.properties\.db\.properties\.password\.x-outpost-secret: only a top-level parameter/,
      },
    );
    assert.throws(
      () =>
        parseDescriptor(
          [
            "apiVersion: outpost/v1",
            "name: db",
            "version: '1'",
            "instance:",
            "  parameters:",
            "    properties:",
            "      password: { type: string, x-outpost-secret: 'yes' }",
            "",
          ].join("\n"),
          "db.yaml",
        ),
      { code: "E_AGENT_DESCRIPTOR", message: /instance\.parameters: .*x-outpost-secret/ },
    );
  });

  it("reports keys for the release asked for, with the one it leaves while switching; nothing before it is installed", () => {
    const target = descriptor();
    const running = parseDescriptor(
      [
        "apiVersion: outpost/v1",
        "name: db",
        "version: '0'",
        "instance:",
        "  parameters:",
        "    properties: { old: { type: string, x-outpost-secret: true } }",
        "",
      ].join("\n"),
      "old.yaml",
    );
    assert.equal(reportedSecretKeys("db.yaml", undefined, running), undefined);
    assert.deepEqual(reportedSecretKeys("db.yaml", target, running), {
      software: "db.yaml",
      parameters: ["old", "password", "token"],
      connection: [],
    });
  });
});
