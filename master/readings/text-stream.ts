/** One text format of rows: what comes before, each row's text, what comes after. */
export interface RowFormat<T> {
  head(): string;
  row(row: T): string;
  /** Called once every row is written (a JSON document's closing parts may need a query). */
  tail(): Promise<string> | string;
}

/** Text is handed on in pieces of about this many characters (one socket write each). */
const PIECE_CHARS = 64 * 1024;

/**
 * The text of `rows` in `format`, in pieces of about PIECE_CHARS: rows are pulled only as
 * fast as the pieces are taken, so a reply never holds more than one piece.
 */
export async function* renderRows<T>(
  rows: AsyncIterable<T>,
  format: RowFormat<T>,
): AsyncGenerator<string> {
  let piece = format.head();
  for await (const row of rows) {
    piece += format.row(row);
    if (piece.length >= PIECE_CHARS) {
      yield piece;
      piece = "";
    }
  }
  piece += await format.tail();
  if (piece.length > 0) yield piece;
}
