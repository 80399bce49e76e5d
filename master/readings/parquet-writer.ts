import type { FileHandle } from "node:fs/promises";
import { ParquetBatch } from "./parquet-batch.js";
import type { Reading } from "./reading.js";

/** Readings per Arrow batch handed to the writer. */
const BATCH_ROWS = 16_384;
/** Readings per Parquet row group: what the writer holds before it writes (~15 MB). */
export const ROW_GROUP_ROWS = 131_072;

/**
 * Writes `readings` to `out` as one Parquet file (columns: parquet-batch.ts; SNAPPY, row
 * groups of ROW_GROUP_ROWS), pulling them only as fast as the writer takes them: memory
 * holds one row group, never the export. `progress` is told the readings written so far.
 * Resolves with the count. Apache Arrow and parquet-wasm (the Rust `parquet` crate in
 * WebAssembly) load on the first call only.
 */
export async function writeParquet(
  readings: AsyncIterable<Reading>,
  out: FileHandle,
  progress: (rows: number) => void = () => {},
): Promise<number> {
  const arrow = await import("apache-arrow");
  const parquet = await import("parquet-wasm");
  const rows = readings[Symbol.asyncIterator]();
  let written = 0;
  let started = false;
  const batches = new ReadableStream({
    async pull(controller) {
      const batch = new ParquetBatch(arrow, BATCH_ROWS);
      while (batch.length < batch.capacity) {
        const next = await rows.next();
        if (next.done) break;
        batch.add(next.value);
      }
      // The writer takes the columns from the first batch: an empty export sends one empty.
      if (batch.length > 0 || !started) {
        const inWasm = parquet.Table.fromIPCStream(arrow.tableToIPC(batch.table(), "stream"));
        for (const b of inWasm.recordBatches()) controller.enqueue(b);
        inWasm.free();
        started = true;
        written += batch.length;
      }
      if (batch.length < batch.capacity) controller.close();
    },
    async cancel() {
      await rows.return?.();
    },
  });
  const properties = new parquet.WriterPropertiesBuilder()
    .setCompression(parquet.Compression.SNAPPY)
    .setMaxRowGroupSize(ROW_GROUP_ROWS)
    .build();
  const bytes = (await parquet.transformParquetStream(batches, properties)).getReader();
  for (;;) {
    const { value, done } = await bytes.read();
    if (done) break;
    await out.write(value as Uint8Array);
    progress(written);
  }
  progress(written);
  return written;
}
