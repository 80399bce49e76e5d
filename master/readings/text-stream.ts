/** One text format of rows: what comes before, each row's text, what comes after. */
export interface RowFormat<T> {
  head(): string;
  row(row: T): string;
  /** Called once every row is written (a JSON document's closing parts may need a query). */
  tail(): Promise<string> | string;
}

/** Text is handed on in pieces of at least this many characters (one socket write each). */
const PIECE_CHARS = 64 * 1024;

/**
 * The text of `pages` of rows in `format`, a piece per page (small pages joined up to
 * PIECE_CHARS): pages are pulled only as fast as the pieces are taken, so a reply never
 * holds more than a page's text.
 */
export async function* renderPages<T>(
  pages: AsyncIterable<readonly T[]>,
  format: RowFormat<T>,
): AsyncGenerator<string> {
  let piece = format.head();
  for await (const rows of pages) {
    for (const row of rows) piece += format.row(row);
    if (piece.length >= PIECE_CHARS) {
      yield piece;
      piece = "";
    }
  }
  piece += await format.tail();
  if (piece.length > 0) yield piece;
}

/** `items` in pages of up to `size`, for `renderPages` (aggregates come one at a time). */
export async function* inPages<T>(items: AsyncIterable<T>, size = 1000): AsyncGenerator<T[]> {
  let page: T[] = [];
  for await (const item of items) {
    page.push(item);
    if (page.length >= size) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}
