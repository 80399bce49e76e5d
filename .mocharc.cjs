// Tests run from the TypeScript sources (tsx), never from dist/. Under CI a skipped
// test fails the run: a peer that is missing must be installed by .ci/run, not skipped.
module.exports = {
  "node-option": ["import=tsx"],
  extension: ["ts"],
  recursive: true,
  timeout: 30000,
  reporter: "spec",
  "forbid-only": process.env.CI === "true",
  "forbid-pending": process.env.CI === "true",
};
