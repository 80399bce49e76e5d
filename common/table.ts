export type Align = "left" | "right";

export interface TableOptions {
  /** Per column; columns not listed are left-aligned. */
  align?: readonly Align[];
  /**
   * `plain` (default): cells joined by two spaces, each line without trailing spaces.
   * `markdown`: `| a | b |` with the `---` rule under the first row, every cell padded,
   * as a Markdown formatter lays a table out.
   */
  format?: "plain" | "markdown";
}

/**
 * Rows of cells as a text table: every column as wide as its widest cell (in UTF-16
 * code units), cells padded to it on the side their alignment says. The first row is the
 * header when there is one; it is laid out like any other row. A missing cell is empty.
 */
export function renderTable(
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string {
  const columns = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) =>
    Math.max(0, ...rows.map((r) => (r[i] ?? "").length)),
  );
  const cells = (row: readonly string[]) =>
    widths.map((w, i) => {
      const cell = row[i] ?? "";
      return options.align?.[i] === "right" ? cell.padStart(w) : cell.padEnd(w);
    });
  if (options.format === "markdown") {
    const line = (row: readonly string[]) => `| ${cells(row).join(" | ")} |`;
    const [header = [], ...body] = rows;
    return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
  }
  return rows.map((row) => cells(row).join("  ").trimEnd()).join("\n");
}
