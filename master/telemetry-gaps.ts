import type { StoredChunk, StoredLoss } from "./store.js";

/** Records of a stream the master has not received between two chunks it holds. */
export interface SequenceGap {
  node: string;
  stream: string;
  fromSeq: number;
  toSeq: number;
  /** Whether loss events from the node account for the whole gap. */
  reported: boolean;
}

/**
 * Gaps between the chunks of each (node, stream), by sequence number. Only gaps between
 * chunks in `chunks` are seen: records after the newest chunk may simply be in flight.
 */
export function findGaps(
  chunks: readonly StoredChunk[],
  losses: readonly StoredLoss[],
): SequenceGap[] {
  const byStream = new Map<string, StoredChunk[]>();
  for (const c of chunks) {
    const key = `${c.node}\u0000${c.stream}`;
    const list = byStream.get(key) ?? [];
    list.push(c);
    byStream.set(key, list);
  }
  const gaps: SequenceGap[] = [];
  for (const list of byStream.values()) {
    list.sort((a, b) => a.firstSeq - b.firstSeq);
    let reach = -1;
    for (const c of list) {
      if (reach >= 0 && c.firstSeq > reach + 1) {
        const gap = { node: c.node, stream: c.stream, fromSeq: reach + 1, toSeq: c.firstSeq - 1 };
        gaps.push({ ...gap, reported: covered(gap, losses) });
      }
      reach = Math.max(reach, c.lastSeq);
    }
  }
  return gaps;
}

function covered(
  gap: { node: string; stream: string; fromSeq: number; toSeq: number },
  losses: readonly StoredLoss[],
): boolean {
  const ranges = losses
    .filter((l) => l.node === gap.node && l.stream === gap.stream)
    .sort((a, b) => a.fromSeq - b.fromSeq);
  let next = gap.fromSeq;
  for (const l of ranges) {
    if (l.fromSeq > next) break;
    next = Math.max(next, l.toSeq + 1);
    if (next > gap.toSeq) return true;
  }
  return false;
}
