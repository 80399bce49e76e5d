import { strict as assert } from "node:assert";
import { LossLedger } from "../../buffer/loss-ledger.js";

const drop = (fromSeq: number, toSeq: number, stream = "bulk") => ({
  stream,
  reason: "overflow" as const,
  chunkId: fromSeq,
  fromSeq,
  toSeq,
  records: toSeq - fromSeq + 1,
});

describe("buffer/loss-ledger", () => {
  it("merges consecutive overflow drops of a stream into one event with the whole range", () => {
    const ledger = new LossLedger([], 1, () => undefined);
    ledger.add(drop(1, 10));
    ledger.add(drop(11, 30));
    ledger.add(drop(1, 5, "alarms"));
    const events = ledger.take();
    assert.deepEqual(
      events.map((e) => [e.id, e.stream, e.fromSeq, e.toSeq, e.records]),
      [
        [1, "bulk", 1, 30, 30],
        [2, "alarms", 1, 5, 5],
      ],
    );
  });

  it("never merges into an event being sent, nor across a gap or a corruption loss", () => {
    const ledger = new LossLedger([], 1, () => undefined);
    ledger.add(drop(1, 10));
    ledger.take();
    ledger.add(drop(11, 20));
    ledger.add(drop(25, 30));
    ledger.add({ ...drop(31, 31), reason: "corrupt" });
    assert.equal(ledger.pending, 4);
  });

  it("offers released events again and forgets acknowledged ones", () => {
    let added = 0;
    const ledger = new LossLedger([], 7, () => added++);
    ledger.add(drop(1, 1));
    ledger.add(drop(5, 5));
    assert.equal(added, 2);
    const [a, b] = ledger.take();
    assert.deepEqual(ledger.take(), []);
    ledger.release(a?.id ?? 0);
    ledger.acknowledge(b?.id ?? 0);
    assert.deepEqual(
      ledger.take().map((e) => e.id),
      [7],
    );
    assert.deepEqual(ledger.snapshot().nextLossId, 9);
    assert.equal(ledger.pending, 1);
  });
});
