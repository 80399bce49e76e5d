import { strict as assert } from "node:assert";
import { renderTable } from "../../common/index.js";

describe("common/table", () => {
  it("pads every column to its widest cell, two spaces apart, no trailing spaces", () => {
    assert.equal(
      renderTable([
        ["NAME", "ONLINE", "KEY"],
        ["gw-1", "yes", "abc"],
        ["gateway-22", "no", ""],
      ]),
      ["NAME        ONLINE  KEY", "gw-1        yes     abc", "gateway-22  no"].join("\n"),
    );
  });

  it("right-aligns the columns it is told to", () => {
    assert.equal(
      renderTable(
        [
          ["CPU", "max"],
          ["3", "12"],
          ["11", "7"],
        ],
        { align: ["right", "right"] },
      ),
      ["CPU  max", "  3   12", " 11    7"].join("\n"),
    );
    assert.equal(
      renderTable(
        [
          ["µs", "a"],
          ["2-3", "x"],
        ],
        { align: ["right"] },
      ),
      [" µs  a", "2-3  x"].join("\n"),
    );
  });

  it("lays a Markdown table out as a formatter does", () => {
    assert.equal(
      renderTable(
        [
          ["key", "what"],
          ["`a`", "one"],
          ["`bcd`", ""],
        ],
        { format: "markdown" },
      ),
      ["| key   | what |", "| ----- | ---- |", "| `a`   | one  |", "| `bcd` |      |"].join("\n"),
    );
  });

  it("treats a missing cell as empty", () => {
    assert.equal(renderTable([["a", "b", "c"], ["dd"]]), ["a   b  c", "dd"].join("\n"));
  });
});
