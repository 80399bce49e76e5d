import { open, rename, rm } from "node:fs/promises";
import type { MasterClient, ReadingsParamsInput } from "../client.js";
import { MasterResponseError } from "../errors.js";
import { readingFromNdjson } from "./ndjson-format.js";
import type { Reading } from "./reading.js";

export const EXPORT_FORMATS = ["csv", "ndjson", "parquet"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  /** The window and filters; `from` and `to` in ms, so every request reads the same window. */
  params: ReadingsParamsInput & { from: number; to: number };
  format: ExportFormat;
  /** The file written; it appears only once complete (written as `FILE.partial`, then renamed). */
  out: string;
  /**
   * Told the readings written so far and the expected total (asked first with a count;
   * it may grow while the window is still receiving readings). Without it no count is asked.
   */
  progress?: (done: number, total: number) => void;
}

/**
 * Exports the readings of a window from the master to a file, streamed end to end: the
 * master pages them out of its store, this process writes each piece as it comes (CSV
 * and NDJSON as the API sends them; Parquet from the NDJSON stream, one row group at a
 * time). Resolves with the readings written.
 */
export async function exportReadings(
  client: MasterClient,
  options: ExportOptions,
): Promise<number> {
  const { params, format, out, progress } = options;
  let total = progress ? await expectedCount(client, params) : 0;
  const report = (done: number) => {
    total = Math.max(total, done);
    progress?.(done, total);
  };
  const partial = `${out}.partial`;
  const file = await open(partial, "w");
  let written: number;
  try {
    if (format === "parquet") {
      const { writeParquet } = await import("./parquet-writer.js");
      const bytes = await client.readingsStream(params, "ndjson");
      written = await writeParquet(readingsOf(bytes), file, report);
    } else {
      written = 0;
      // CSV's header is a line too; a string value with a line break in it miscounts
      // the progress, never the file.
      let lines = format === "csv" ? -1 : 0;
      for await (const piece of await client.readingsStream(params, format)) {
        await file.write(piece);
        for (let at = piece.indexOf(10); at >= 0; at = piece.indexOf(10, at + 1)) lines++;
        report(Math.max(0, lines));
      }
      written = Math.max(0, lines);
    }
    await file.sync();
  } catch (err) {
    await file.close();
    await rm(partial, { force: true });
    throw err;
  }
  await file.close();
  await rename(partial, out);
  return written;
}

/** How many readings the window holds now, by one `count` bucket over it. */
async function expectedCount(
  client: MasterClient,
  params: ExportOptions["params"],
): Promise<number> {
  const answer = await client.readings({
    ...params,
    step: `${params.to - params.from}ms`,
    agg: "count",
  });
  return answer.series.reduce((n, s) => n + s.points.reduce((m, p) => m + Number(p[2]), 0), 0);
}

/** The readings of an NDJSON byte stream (`ndjsonReadings`), one per line. */
export async function* readingsOf(bytes: AsyncIterable<Uint8Array>): AsyncGenerator<Reading> {
  const decoder = new TextDecoder();
  let rest = "";
  let line = 0;
  const parse = (text: string): Reading => {
    line++;
    try {
      return readingFromNdjson(text);
    } catch (err) {
      throw new MasterResponseError(
        "/v1/readings",
        `NDJSON line ${line}: ${(err as Error).message}`,
      );
    }
  };
  for await (const piece of bytes) {
    rest += decoder.decode(piece, { stream: true });
    let end = rest.indexOf("\n");
    let start = 0;
    while (end >= 0) {
      if (end > start) yield parse(rest.slice(start, end));
      start = end + 1;
      end = rest.indexOf("\n", start);
    }
    rest = rest.slice(start);
  }
  rest += decoder.decode();
  if (rest.length > 0) yield parse(rest);
}
