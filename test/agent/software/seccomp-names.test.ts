import { strict as assert } from "node:assert";
import { parseDescriptor, partitionLayout, renderInstance } from "../../../agent/index.js";

const descriptor = (deny: string) => `apiVersion: outpost/v1
name: quiet
version: 1.0.0
instance:
  processes:
    - { name: main, command: ["/bin/sleep", "30"] }
  seccomp:
    deny: ${deny}
`;

describe("a release's own seccomp denials (instance.seccomp.deny)", () => {
  it("accepts syscall names of either architecture", () => {
    const d = parseDescriptor(descriptor("[io_uring_setup, open, renameat]"), "q.yaml");
    assert.deepEqual(d.instance?.seccomp?.deny, ["io_uring_setup", "open", "renameat"]);
  });

  it("refuses an unknown name with a did-you-mean hint, naming where", () => {
    assert.throws(() => parseDescriptor(descriptor("[io_uring_setup, keyctrl]"), "q.yaml"), {
      code: "E_AGENT_DESCRIPTOR",
      message: /instance\.seccomp\.deny\.1: unknown syscall 'keyctrl'; did you mean 'keyctl'\?/,
    });
  });

  it("has no way to allow: an `allow` key is unknown", () => {
    const text = descriptor("[bpf]").replace("    deny:", "    allow:");
    assert.throws(() => parseDescriptor(text, "q.yaml"), {
      message: /instance\.seccomp\.allow: unknown key/,
    });
  });

  it("refuses what is not a syscall name, and duplicates", () => {
    assert.throws(() => parseDescriptor(descriptor('["Open"]'), "q.yaml"), {
      message: /instance\.seccomp\.deny\.0: must match pattern/,
    });
    assert.throws(() => parseDescriptor(descriptor("[bpf, bpf]"), "q.yaml"), {
      message: /instance\.seccomp\.deny: must NOT have duplicate items/,
    });
  });

  it("reaches the rendered instance", () => {
    const url = "/r/q.yaml";
    const software = {
      url,
      id: "0123456789abcdef0123",
      dir: "/data/software/0123456789abcdef0123",
      descriptor: parseDescriptor(descriptor("[io_uring_setup]"), url),
      installedAt: 0,
    };
    const partition = partitionLayout(
      { root: "/data/partitions", logRoot: "/data/logs", userPrefix: "outpost-p" },
      1,
    );
    const rendered = renderInstance("q", software, partition, {});
    assert.deepEqual(rendered.seccompDeny, ["io_uring_setup"]);
  });
});
