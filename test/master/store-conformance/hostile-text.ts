import { strict as assert } from "node:assert";
import type { TelemetryRecord } from "../../../collector/record.js";
import {
  collectPages,
  RECORD_SCHEMA_FINGERPRINT,
  RECORD_SCHEMA_TEXT,
  recordChunk,
} from "../../helpers/record-chunks.js";
import type { StoreCase } from "./case.js";

const NOW = Date.UTC(2025, 5, 1, 12);

/**
 * Names and strings are a node's to choose, and a store may move them in a text format
 * (PostgreSQL's COPY): the characters that format gives meaning to (tab, newline,
 * carriage return, backslash, `\N` for NULL, `\.` for the end of data) must come back
 * as sent, never split a row, end the data or become NULL.
 */
export function hostileTextCases(c: StoreCase): void {
  describe("strings a node chooses", () => {
    it("stores device, tag, unit and string values with COPY's special characters exactly", async () => {
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW);
      const nasty = [
        "a\tb",
        "line\nnext",
        "cr\rx",
        "back\\slash",
        "\\N",
        "\\.",
        "'; DROP TABLE readings; --",
      ];
      const records: TelemetryRecord[] = nasty.map((s, i) => ({
        device: `dev\t${i}\n`,
        tag: `tag\\${i}\r`,
        ts: NOW + i,
        value: s,
        quality: "good",
        unit: s,
      }));
      const [result] = await c.store.ingestChunks([
        recordChunk("gw\t1", 1, records, { receivedAt: NOW, stream: "s\\N\t" }),
      ]);
      assert.deepEqual(result, { duplicate: false });
      assert.deepEqual(await c.store.decodeFailures(), []);
      const got = await collectPages(
        c.store.readingPages({ from: 0, to: 2 ** 52, anyQuality: true }),
      );
      assert.deepEqual(
        got.map((r) => [r.node, r.stream, r.device, r.tag, r.value, r.unit]),
        nasty.map((s, i) => ["gw\t1", "s\\N\t", `dev\t${i}\n`, `tag\\${i}\r`, s, s]),
      );
      assert.deepEqual(
        (await c.store.readingSeries()).map((s) => s.device),
        nasty.map((_, i) => `dev\t${i}\n`),
      );
    });
  });
}
