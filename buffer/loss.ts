/**
 * A loss event says which records of a stream will never arrive and why. The buffer keeps
 * each one in its checkpoint until the sink has acknowledged it, so no loss goes
 * unreported, and the sequence gap it names is what the master also sees.
 */
export interface LossEvent {
  /** Monotonic per buffer; the sink dedupes by it. */
  id: number;
  stream: string;
  /** `overflow`: dropped by `drop_oldest`; `corrupt`: damaged on disk. */
  reason: "overflow" | "corrupt";
  chunkId: number;
  /** Inclusive sequence range lost; `records` is how many records that is. */
  fromSeq: number;
  toSeq: number;
  records: number;
  /** When the loss was detected, ms since the epoch. */
  at: number;
}
