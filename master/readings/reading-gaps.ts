import type { StoredChunk } from "../store.js";
import type { SequenceGap } from "../telemetry-gaps.js";

/**
 * A sequence gap placed in time: `fromTs` is the newest reading before it, `toTs` the
 * oldest after it. For raw readings both are readings of the answer (exact); for
 * aggregates they are the node's chunk creation times around the gap (the node's clock).
 */
export interface ReadingGap extends SequenceGap {
  /** Records missing: `toSeq - fromSeq + 1`. */
  records: number;
  fromTs: number;
  toTs: number;
}

interface StreamGaps {
  gaps: SequenceGap[];
  /** Per slot k (readings after gap k-1 and before gap k): newest and oldest ts seen. */
  newest: number[];
  oldest: number[];
}

const key = (node: string, stream: string) => `${node}\u0000${stream}`;

/**
 * Places sequence gaps among the readings of an answer as they stream past, in O(gaps)
 * memory: each reading only updates the slot between the two gaps around its sequence
 * number. A gap is in the answer when readings of its stream lie on both sides of it.
 */
export class GapLocator {
  private readonly streams = new Map<string, StreamGaps>();

  constructor(gaps: readonly SequenceGap[]) {
    for (const g of gaps) {
      const k = key(g.node, g.stream);
      const s = this.streams.get(k) ?? { gaps: [], newest: [], oldest: [] };
      s.gaps.push(g);
      this.streams.set(k, s);
    }
    for (const s of this.streams.values()) {
      s.gaps.sort((a, b) => a.fromSeq - b.fromSeq);
      s.newest = new Array(s.gaps.length + 1).fill(Number.NEGATIVE_INFINITY);
      s.oldest = new Array(s.gaps.length + 1).fill(Number.POSITIVE_INFINITY);
    }
  }

  observe(node: string, stream: string, seq: number, ts: number): void {
    const s = this.streams.get(key(node, stream));
    if (!s) return;
    let lo = 0;
    let hi = s.gaps.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((s.gaps[mid] as SequenceGap).fromSeq > seq) hi = mid;
      else lo = mid + 1;
    }
    s.newest[lo] = Math.max(s.newest[lo] as number, ts);
    s.oldest[lo] = Math.min(s.oldest[lo] as number, ts);
  }

  /** The gaps with readings on both sides, oldest first per stream. */
  located(): ReadingGap[] {
    const out: ReadingGap[] = [];
    for (const s of this.streams.values()) {
      const n = s.gaps.length;
      const after = new Array<number>(n + 1).fill(Number.POSITIVE_INFINITY);
      for (let k = n - 1; k >= 0; k--) {
        after[k] = Math.min(after[k + 1] as number, s.oldest[k + 1] as number);
      }
      let before = Number.NEGATIVE_INFINITY;
      s.gaps.forEach((g, j) => {
        before = Math.max(before, s.newest[j] as number);
        const next = after[j] as number;
        if (Number.isFinite(before) && Number.isFinite(next)) {
          out.push({ ...g, records: g.toSeq - g.fromSeq + 1, fromTs: before, toTs: next });
        }
      });
    }
    return out;
  }
}

/**
 * Places gaps by their neighbouring chunks' creation times (for aggregates, whose points
 * carry no sequence numbers), keeping those that overlap [from, to).
 */
export function gapsByChunkTime(
  gaps: readonly SequenceGap[],
  chunks: readonly StoredChunk[],
  from: number,
  to: number,
): ReadingGap[] {
  const out: ReadingGap[] = [];
  for (const g of gaps) {
    let fromTs = Number.NEGATIVE_INFINITY;
    let toTs = Number.POSITIVE_INFINITY;
    for (const c of chunks) {
      if (c.node !== g.node || c.stream !== g.stream) continue;
      if (c.lastSeq < g.fromSeq) fromTs = Math.max(fromTs, c.createdAt);
      else if (c.firstSeq > g.toSeq) toTs = Math.min(toTs, c.createdAt);
    }
    if (Number.isFinite(fromTs) && Number.isFinite(toTs) && fromTs < to && toTs >= from) {
      out.push({ ...g, records: g.toSeq - g.fromSeq + 1, fromTs, toTs });
    }
  }
  return out;
}
