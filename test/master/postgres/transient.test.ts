import { strict as assert } from "node:assert";
import { retryTransient, WRITE_ATTEMPTS } from "../../../master/postgres/transient.js";

function pgError(code: string): Error {
  return Object.assign(new Error(`postgres ${code}`), { code });
}

describe("master/postgres/transient", () => {
  it("runs a transaction again after a deadlock or serialization failure, undoing each failed try", async () => {
    const failures = [pgError("40P01"), pgError("40001")];
    let tries = 0;
    let undone = 0;
    const result = await retryTransient(
      async () => {
        tries++;
        const failure = failures.shift();
        if (failure) throw failure;
        return "stored";
      },
      () => undone++,
    );
    assert.deepEqual([result, tries, undone], ["stored", 3, 2]);
  });

  it(`gives up after ${WRITE_ATTEMPTS} deadlocks in a row, with the last error`, async () => {
    let tries = 0;
    await assert.rejects(
      retryTransient(
        async () => {
          tries++;
          throw pgError("40P01");
        },
        () => undefined,
      ),
      { code: "40P01" },
    );
    assert.equal(tries, WRITE_ATTEMPTS);
  });

  it("never runs again a transaction that failed for another reason (a unique violation)", async () => {
    let tries = 0;
    let undone = 0;
    await assert.rejects(
      retryTransient(
        async () => {
          tries++;
          throw pgError("23505");
        },
        () => undone++,
      ),
      { code: "23505" },
    );
    assert.deepEqual([tries, undone], [1, 1]);
  });
});
