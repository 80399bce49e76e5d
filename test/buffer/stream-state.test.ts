import { strict as assert } from "node:assert";
import { STREAM_DEFAULTS } from "../../buffer/config.js";
import { StreamState } from "../../buffer/stream-state.js";

describe("buffer/stream-state", () => {
  it("runs the stream's operations one after another, even when one fails", async () => {
    const st = new StreamState("a", "/nowhere", STREAM_DEFAULTS, async () => undefined);
    const log: string[] = [];
    const slow = st.serial(async () => {
      await new Promise((r) => setTimeout(r, 20));
      log.push("slow");
    });
    const failing = st.serial(async () => {
      log.push("failing");
      throw new Error("boom");
    });
    const last = st.serial(async () => {
      log.push("last");
    });
    await slow;
    await assert.rejects(failing, /boom/);
    await last;
    assert.deepEqual(log, ["slow", "failing", "last"]);
  });
});
