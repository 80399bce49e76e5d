/**
 * Import rules checked by `npm run lint` (dependency-cruiser): no import circle, counting
 * type-only imports and lazy `import()`, and the component layering of
 * docs/ARCHITECTURE.md's layout table, whose "imports" column is `layers` below. Each
 * component may import the components listed for it and nothing else of ours (buffer/
 * only protocol/'s types); `cli/` may import every component; `test/` and `bench/` may
 * import anything, and nothing else may import them.
 */

/** component → the components it may import (its own files always). */
const layers = {
  common: [],
  native: ["common"],
  realtime: ["common", "native"],
  protocol: ["common"],
  buffer: ["common", "protocol"],
  collector: ["common", "buffer"],
  master: ["common", "protocol"],
  agent: ["common", "native", "realtime", "protocol", "buffer", "ota"],
  boards: ["common"],
  "image-format": ["common"],
  ota: ["common", "image-format"],
  images: ["common", "boards", "native", "image-format", "ota"],
};

const folder = (names) => `^(${names.join("|")})/`;

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment:
        "An import circle, type-only and lazy import() included: split out what both sides need.",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-test-in-production",
      severity: "error",
      comment: "Production code must not import test/ or bench/ (test tooling lives there).",
      from: { pathNot: folder(["test", "bench"]) },
      to: { path: folder(["test", "bench"]) },
    },
    {
      name: "buffer-protocol-types-only",
      severity: "error",
      comment: "buffer/ takes protocol/'s chunk and loss types, never its code (import type).",
      from: { path: folder(["buffer"]) },
      to: { path: folder(["protocol"]), dependencyTypesNot: ["type-only"] },
    },
    {
      name: "cli-imports-components",
      severity: "error",
      comment: "cli/ may import every component.",
      from: { path: folder(["cli"]) },
      to: {
        dependencyTypes: ["local"],
        pathNot: folder(["cli", ...Object.keys(layers), "test", "bench"]),
      },
    },
    ...Object.entries(layers).map(([component, allowed]) => ({
      name: `layer-${component}`,
      severity: "error",
      comment: `${component}/ may import only ${allowed.length > 0 ? allowed.join(", ") : "nothing of ours"} (docs/ARCHITECTURE.md, layout).`,
      from: { path: folder([component]) },
      // An import of test/ or bench/ is reported once, by no-test-in-production.
      to: { dependencyTypes: ["local"], pathNot: folder([component, ...allowed, "test", "bench"]) },
    })),
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|dist|build|build-arm64|test/fixtures/lint)/" },
  },
};
