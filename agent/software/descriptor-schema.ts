import { DURATION_PATTERN } from "../../common/index.js";
import { REALTIME_SPEC_SCHEMA } from "../../realtime/index.js";

const NAME = "^[a-z0-9][a-z0-9-]{0,62}$";

const argv = {
  type: "array",
  minItems: 1,
  items: { type: "string", minLength: 1 },
} as const;

/**
 * JSON Schema of `software.yaml`; unknown keys are errors. Every key carries the
 * `description`, `default` and `examples` that docs/software-release.md is generated
 * from (`outpost release reference`), so the reference cannot drift from what is checked.
 */
export const descriptorSchema = {
  type: "object",
  additionalProperties: false,
  required: ["apiVersion", "name", "version"],
  properties: {
    apiVersion: {
      const: "outpost/v1",
      description: "The descriptor format; only `outpost/v1` exists.",
      examples: ["outpost/v1"],
    },
    name: {
      type: "string",
      pattern: NAME,
      description: "The release's name: lower-case letters, digits and dashes.",
      examples: ["echo"],
    },
    version: {
      type: "string",
      minLength: 1,
      description:
        "The release's version, free text. A changed descriptor (any byte) installs beside the old one.",
      examples: ["1.0.0"],
    },
    build: {
      type: "object",
      additionalProperties: false,
      description:
        "How the release is installed, once per node: fetch sources, then run steps. Runs as an account of the install's own, in a work directory only that account can enter.",
      properties: {
        fetch: {
          type: "array",
          description: "Files to download before any step runs, each checked against its sha256.",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["url", "sha256"],
            properties: {
              url: {
                type: "string",
                minLength: 1,
                description:
                  "Where the file is: a path relative to the descriptor, `file:` (below the descriptor's directory or an agent `--file-root`) or `https:`.",
                examples: ["./echo.tar.gz"],
              },
              sha256: {
                type: "string",
                pattern: "^[0-9a-f]{64}$",
                description:
                  "The file's sha256, lower-case hex. Mandatory; a mismatch fails the install and keeps nothing.",
                examples: ["5fec101998649c31ae7659deec56e7143fdc51d5f4e7041d063c719db50a631a"],
              },
              extract: {
                type: "boolean",
                default: false,
                description:
                  "Unpack the archive (any format `tar` reads) into the work directory `{{build}}`, where the steps run; the archive itself is then removed. With no `build.steps`, the work directory as it stands is installed as the release: fetched files and what archives unpacked.",
              },
            },
          },
        },
        steps: {
          type: "array",
          description:
            "Commands run in order in the work directory `{{build}}`; each must exit 0. They install into `{{software}}`. Templates: `{{software}}`, `{{build}}`.",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["run"],
            properties: {
              run: {
                ...argv,
                description: "The command and its arguments (no shell unless you run one).",
                examples: [["make", "install", "PREFIX={{software}}"]],
              },
            },
          },
        },
      },
    },
    instance: {
      type: "object",
      additionalProperties: false,
      description:
        "What one instance of the release is: its parameters, files, processes, promises.",
      properties: {
        parameters: {
          type: "object",
          description:
            "JSON Schema of the request parameters. Values arrive as strings and are coerced to its types; its defaults are filled in. `x-outpost-secret: true` on a top-level property makes it a secret (see Secret parameters below).",
          examples: [{ type: "object", properties: { port: { type: "integer", default: 7000 } } }],
        },
        files: {
          type: "array",
          description:
            "Files written into the partition before the processes start, and rewritten when parameters change.",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["path", "content"],
            properties: {
              path: {
                type: "string",
                pattern: "^(?!/)(?!.*(^|/)\\.\\.(/|$)).+$",
                description: "Path relative to the partition directory; it may not leave it.",
                examples: ["etc/echo.conf"],
              },
              mode: {
                type: "string",
                pattern: "^0?[0-7]{3}$",
                default: "0640",
                description: "Octal file mode.",
              },
              content: {
                type: "string",
                description: "The file's content, a template.",
                examples: ["port={{params.port}}\n"],
              },
            },
          },
        },
        processes: {
          type: "array",
          description: "Processes run as the partition's user, each in its own cgroup, supervised.",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["name", "command"],
            properties: {
              name: {
                type: "string",
                pattern: NAME,
                description: "The process's name; its log is `NAME.log`.",
                examples: ["server"],
              },
              command: {
                ...argv,
                description:
                  "The program and its arguments, templates. The program must exist inside the release (`{{software}}/…`) or on the PATH it runs with; the agent checks this at install, or at render when it uses `{{params.*}}`.",
                examples: [
                  ["{{software}}/bin/echo-server", "{{partition.address}}", "{{params.port}}"],
                ],
              },
              restart: {
                enum: ["always", "on-failure", "never"],
                default: "always",
                description: "When the process is started again after it ends.",
              },
              env: {
                type: "object",
                additionalProperties: { type: "string" },
                description: "Environment variables added to the process's, templates.",
                examples: [{ LOG_LEVEL: "info" }],
              },
              resources: {
                type: "object",
                additionalProperties: false,
                description: "Limits of the process's cgroup.",
                properties: {
                  cpu: {
                    type: "number",
                    exclusiveMinimum: 0,
                    description: "CPU bandwidth in cores.",
                    examples: [0.5],
                  },
                  memory: {
                    type: ["string", "integer"],
                    description: "Memory limit: bytes, or a size such as `64Mi`.",
                    examples: ["64Mi"],
                  },
                  pids: {
                    type: "integer",
                    minimum: 1,
                    description: "Most tasks (processes and threads).",
                    examples: [32],
                  },
                },
              },
              realtime: {
                ...REALTIME_SPEC_SCHEMA,
                description:
                  "Real-time scheduling on whole cores of its own (see realtime/README.md for the profiles and each key).",
                examples: [{ profile: "plc" }],
              },
            },
          },
        },
        promises: {
          type: "array",
          description:
            "Health checks, each with exactly one of `tcp`, `http`, `file`, `command`. The instance is ready when every process runs and every promise passes.",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["name"],
            minProperties: 2,
            properties: {
              name: {
                type: "string",
                pattern: NAME,
                description: "The promise's name.",
                examples: ["listening"],
              },
              tcp: {
                type: "string",
                description: "`HOST:PORT` that must accept a connection, a template.",
                examples: ["{{partition.address}}:{{params.port}}"],
              },
              http: {
                type: "string",
                description: "URL that must answer with a status below 400, a template.",
                examples: ["http://{{partition.address}}:8080/health"],
              },
              file: {
                type: "string",
                description:
                  "Path that must exist, relative to the partition directory or absolute.",
                examples: ["buffer"],
              },
              command: {
                ...argv,
                description:
                  "Command that must exit 0, run as the partition user in its own cgroup; its last output line is its message.",
                examples: [["{{software}}/bin/check"]],
              },
              interval: {
                type: "string",
                pattern: DURATION_PATTERN,
                default: "10s",
                description:
                  "How often the check runs: a number and `ms`, `s`, `m`, `h` or `d` (`1.5s`).",
              },
              timeout: {
                type: "string",
                pattern: DURATION_PATTERN,
                description: "How long one check may take (default: the interval, at most 5 s).",
                examples: ["2s"],
              },
            },
            oneOf: [
              { required: ["tcp"] },
              { required: ["http"] },
              { required: ["file"] },
              { required: ["command"] },
            ],
          },
        },
        publish: {
          type: "object",
          additionalProperties: { type: "string" },
          description:
            "Connection parameters the master shows once the instance is ready, templates.",
          examples: [{ url: "tcp://{{partition.address}}:{{params.port}}" }],
        },
        requests: {
          type: "array",
          description:
            "Other instances this one needs; the master creates them as `NAME.REQUEST` on this node, and this instance starts once they are ready, with their connection parameters as `{{requests.REQUEST.KEY}}`.",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["name", "software"],
            properties: {
              name: {
                type: "string",
                pattern: NAME,
                description: "The request's name.",
                examples: ["store"],
              },
              software: {
                type: "string",
                minLength: 1,
                description: "The requested release's descriptor, relative to this one's URL.",
                examples: ["../kv/software.yaml"],
              },
              parameters: {
                type: "object",
                description: "Its parameters; values are templates.",
                examples: [{ port: "7001" }],
              },
            },
          },
        },
        seccomp: {
          type: "object",
          additionalProperties: false,
          description:
            "Syscalls this release's processes and command promises may not make, on top of what no partition may make (user namespaces, the kernel keyring, ptrace and other processes' memory, bpf, perf_event_open, userfaultfd, kexec, modules). A release can only deny more, never allow.",
          properties: {
            deny: {
              type: "array",
              uniqueItems: true,
              items: { type: "string", pattern: "^[a-z0-9_]+$" },
              description:
                "Syscall names as the kernel spells them (x86_64 or aarch64); each fails with EPERM. An unknown name is an error; a name the node's architecture lacks is skipped.",
              examples: [["io_uring_setup", "io_uring_enter", "io_uring_register"]],
            },
          },
        },
      },
    },
  },
} as const;
