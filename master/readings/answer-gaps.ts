import type { MasterStore, StoredChunk, StoredLoss } from "../store.js";
import { findGaps, type SequenceGap } from "../telemetry-gaps.js";
import type { ReadingsQuery } from "./reading.js";
import type { ReadingGap } from "./reading-gaps.js";

/** Most chunks (metadata only) read to find the sequence gaps of one answer. */
export const MAX_GAP_CHUNKS = 100_000;
/** Most loss events one answer considers. */
export const MAX_LOSSES = 10_000;

export type GapSource = Pick<MasterStore, "queryChunks" | "queryLosses">;

export interface SequenceContext {
  /** Every sequence gap between the chunks received since `from` (placed later). */
  gaps: SequenceGap[];
  chunks: StoredChunk[];
  losses: StoredLoss[];
}

/**
 * The chunks and loss events an answer's gaps come from: those of the query's node (all
 * nodes when none) received since the window's start. A reading of the window was received
 * after it was taken, and a record lost after it was written, so nothing older can hold
 * one (as long as the producer's clock is right; see master/README.md).
 */
export async function sequenceContext(
  source: GapSource,
  query: ReadingsQuery,
): Promise<SequenceContext> {
  const filter = { ...(query.node !== undefined ? { node: query.node } : {}), since: query.from };
  const [chunks, losses] = await Promise.all([
    source.queryChunks({ ...filter, limit: MAX_GAP_CHUNKS }),
    source.queryLosses({ ...filter, limit: MAX_LOSSES }),
  ]);
  return { gaps: findGaps(chunks, losses), chunks, losses };
}

/**
 * The loss events an answer shows: those detected within its window, and those that
 * account for one of its gaps. A loss is of a stream, so device and tag filters do not
 * apply to it.
 */
export function lossesInAnswer(
  losses: readonly StoredLoss[],
  gaps: readonly ReadingGap[],
  query: ReadingsQuery,
): StoredLoss[] {
  return losses.filter(
    (l) =>
      (l.at >= query.from && l.at < query.to) ||
      gaps.some(
        (g) =>
          g.node === l.node &&
          g.stream === l.stream &&
          l.fromSeq <= g.toSeq &&
          l.toSeq >= g.fromSeq,
      ),
  );
}
