import { strict as assert } from "node:assert";
import { BufferFullError, diskFullAsBufferFull } from "../../buffer/errors.js";

describe("buffer/errors", () => {
  it("turns ENOSPC and EDQUOT into BufferFullError (reason disk) naming the directory", () => {
    for (const code of ["ENOSPC", "EDQUOT"]) {
      const cause = Object.assign(new Error("no space"), { code });
      const err = diskFullAsBufferFull(cause, "bulk", "/data/buf/streams/bulk");
      assert.ok(err instanceof BufferFullError);
      assert.equal(err.code, "E_BUFFER_FULL");
      assert.equal(err.reason, "disk");
      assert.equal(err.cause, cause);
      assert.equal(
        err.message,
        `buffer full for stream 'bulk' (${code} writing /data/buf/streams/bulk)`,
      );
    }
  });

  it("passes every other error through unchanged", () => {
    const eio = Object.assign(new Error("i/o"), { code: "EIO" });
    assert.equal(diskFullAsBufferFull(eio, "bulk", "/x"), eio);
  });
});
