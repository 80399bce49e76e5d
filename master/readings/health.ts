/** A chunk the master keeps raw because it did not decode; `error` says why. */
export interface DecodeFailure {
  node: string;
  chunkId: number;
  stream: string;
  /** The chunk's schema fingerprint, hex. */
  schema: string;
  error: string;
  receivedAt: number;
}

export interface DecodeFailureQuery {
  node?: string;
  /** At most this many, newest first (default 100). */
  limit?: number;
}

/**
 * Per node, what ingest stored but could not take plainly: readings stamped far in the
 * past (`late`: received more than LATE_MS after their time) or at an impossible time
 * (`clockSuspect`: before 2001 or more than a day ahead of the master, e.g. a gateway
 * without a real-time clock stamping 1970), and chunks kept raw (awaiting their schema,
 * or failed to decode), and readings not stored raw because they arrived past their
 * stream's raw retention (`expired`: merged into the rollups while those are kept). A
 * node with none of these is not listed.
 */
export interface ReadingCounts {
  node: string;
  late: number;
  clockSuspect: number;
  expired: number;
  awaitingSchema: number;
  decodeFailed: number;
}

/** The result of storing a schema: `decodedChunks` chunks that waited for it were decoded. */
export interface SchemaResult {
  duplicate: boolean;
  decodedChunks: number;
}
