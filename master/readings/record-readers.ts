import { type RecordReader, recordReader } from "./record-reader.js";
import { compileSchema } from "./schema-check.js";

/** A schema's reader, or why its records cannot be read as readings. */
export type ReaderOrError = { read: RecordReader } | { error: string };

/** Compiled schemas kept at once; a hostile node announcing many only evicts. */
const MAX_READERS = 256;

/**
 * The record reader of each schema fingerprint, compiled from the stored schema text
 * the first time a chunk needs it (`load` reads the store) and kept, the least recently
 * used dropped beyond MAX_READERS. Unknown fingerprints are not remembered: the next
 * chunk asks the store again, so a schema stored meanwhile is found.
 */
export class RecordReaders {
  private readonly readers = new Map<string, ReaderOrError>();

  constructor(private readonly load: (fingerprint: Uint8Array) => string | undefined) {}

  /** undefined while the schema is not stored. */
  get(fingerprint: Uint8Array): ReaderOrError | undefined {
    const key = Buffer.from(fingerprint).toString("hex");
    const known = this.readers.get(key);
    if (known) {
      this.readers.delete(key);
      this.readers.set(key, known);
      return known;
    }
    const text = this.load(fingerprint);
    if (text === undefined) return undefined;
    const compiled = compiledReader(fingerprint, text);
    this.readers.set(key, compiled);
    if (this.readers.size > MAX_READERS) {
      const oldest = this.readers.keys().next().value as string;
      this.readers.delete(oldest);
    }
    return compiled;
  }
}

/** A schema text's reader, or the reason its records cannot be read (never throws). */
export function compiledReader(fingerprint: Uint8Array, text: string): ReaderOrError {
  try {
    return { read: recordReader(compileSchema(fingerprint, text)) };
  } catch (err) {
    return {
      error: `schema cannot carry readings: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}
