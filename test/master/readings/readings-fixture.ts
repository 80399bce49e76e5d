import type { TelemetryRecord } from "../../../collector/record.js";
import type { MasterStore } from "../../../master/index.js";
import {
  RECORD_SCHEMA_FINGERPRINT,
  RECORD_SCHEMA_TEXT,
  recordChunk,
} from "../../helpers/record-chunks.js";

/** Records per second of the fixture: four tags of turbine-1, one of turbine-2. */
export const PER_SECOND = 5;
export const SECONDS = 60;
/** Seconds per chunk: 50 records each, 6 chunks. */
export const CHUNK_SECONDS = 10;
/** Chunk 2 (seq 101-150) is lost and reported; chunk 4 (seq 201-250) simply never arrives. */
export const REPORTED_CHUNK = 2;
export const MISSING_CHUNK = 4;

export interface SeededReading {
  record: TelemetryRecord;
  seq: number;
  /** Whether the store holds it (its chunk arrived). */
  stored: boolean;
}

/** The fixture's records, second by second from `t0`, and which of them arrive. */
export function fixtureRecords(t0: number): SeededReading[] {
  const out: SeededReading[] = [];
  for (let i = 0; i < SECONDS; i++) {
    const ts = t0 + i * 1000;
    const records: TelemetryRecord[] = [
      {
        device: "turbine-1",
        tag: "counter",
        ts,
        value: 2n ** 64n - 1n - BigInt(i),
        quality: "good",
      },
      {
        device: "turbine-1",
        tag: "rotor_rpm",
        ts,
        value: 10 + (i % 7) + 0.25,
        quality: i % 13 === 0 ? "comm_error" : "good",
        unit: "rpm",
      },
      {
        device: "turbine-1",
        tag: "energy",
        ts,
        value: 2n ** 62n + BigInt(i),
        quality: "good",
        unit: "Wh",
      },
      { device: "turbine-1", tag: "sample", ts, value: i + 1, quality: "good" },
      {
        device: "turbine-2",
        tag: "rotor_rpm",
        ts,
        value: 20 - (i % 5),
        quality: "good",
        unit: "rpm",
      },
    ];
    for (const record of records) {
      const seq = out.length + 1;
      const chunk = Math.floor(i / CHUNK_SECONDS);
      out.push({ record, seq, stored: chunk !== REPORTED_CHUNK && chunk !== MISSING_CHUNK });
    }
  }
  return out;
}

/**
 * Seeds `store` through its public ingest: the collector's schema, then the fixture's
 * chunks from node `n1` (stream `telemetry`), one lost and reported, one missing.
 */
export async function seedReadings(store: MasterStore, t0: number): Promise<SeededReading[]> {
  const all = fixtureRecords(t0);
  await store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, t0);
  const perChunk = PER_SECOND * CHUNK_SECONDS;
  for (let c = 0; c * perChunk < all.length; c++) {
    const part = all.slice(c * perChunk, (c + 1) * perChunk);
    const firstSeq = part[0]?.seq as number;
    if (c === REPORTED_CHUNK) {
      await store.recordLosses([
        {
          node: "n1",
          lossId: 1,
          stream: "telemetry",
          reason: "overflow",
          chunkId: c + 1,
          fromSeq: firstSeq,
          toSeq: firstSeq + part.length - 1,
          records: part.length,
          at: t0 + (c + 1) * CHUNK_SECONDS * 1000,
          receivedAt: Date.now(),
        },
      ]);
    }
    if (c === REPORTED_CHUNK || c === MISSING_CHUNK) continue;
    const chunk = recordChunk(
      "n1",
      c + 1,
      part.map((p) => p.record),
      { firstSeq },
    );
    await store.ingestChunks([{ ...chunk, createdAt: t0 + c * CHUNK_SECONDS * 1000 }]);
  }
  return all;
}
