/** What the buffer knows about one sealed, undelivered chunk without reading it. */
export interface ChunkRef {
  id: number;
  stream: string;
  path: string;
  /** File size, header and trailer included. */
  bytes: number;
  records: number;
  firstSeq: number;
  lastSeq: number;
  createdAt: number;
  state: "queued" | "sending";
  /** Recovery found damage; the chunk is quarantined before it is sent. */
  suspect: boolean;
}
