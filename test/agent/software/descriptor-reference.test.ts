import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { descriptorReference, descriptorSchema } from "../../../agent/index.js";
import { repoRoot } from "../../helpers/run-outpost.js";

interface SchemaNode {
  description?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

/** Every key of the descriptor schema without a description. */
function undocumentedKeys(
  node: SchemaNode = descriptorSchema as unknown as SchemaNode,
  path = "",
): string[] {
  const out: string[] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const name = `${path}${key}`;
    if (!child.description) out.push(name);
    if (child.properties && !name.endsWith("realtime"))
      out.push(...undocumentedKeys(child, `${name}.`));
    else if (child.items?.properties) out.push(...undocumentedKeys(child.items, `${name}[].`));
  }
  return out;
}

describe("software release reference (docs/software-release.md)", () => {
  it("is what the descriptor schema generates: regenerate with `outpost release reference`", () => {
    const committed = readFileSync(join(repoRoot, "docs", "software-release.md"), "utf8");
    assert.equal(
      committed,
      descriptorReference(),
      "docs/software-release.md differs from the schema: run `npx outpost release reference > docs/software-release.md`",
    );
  });

  it("documents every key of the schema", () => {
    assert.deepEqual(undocumentedKeys(), []);
  });

  it("has a row per key, with its type and default where it has one", () => {
    const row = (key: string) =>
      descriptorReference()
        .split("\n")
        .find((l) => l.startsWith(`| \`${key}\` `))
        ?.split(" | ")
        .map((cell) => cell.trim());
    assert.deepEqual(row("instance.processes[].restart")?.slice(1, 3), [
      "`always` \\| `on-failure` \\| `never`",
      "`always`",
    ]);
    assert.deepEqual(row("build.fetch[].extract")?.slice(1, 3), ["boolean", "`false`"]);
    assert.deepEqual(row("name")?.slice(1, 3), ["string", "required"]);
  });
});
