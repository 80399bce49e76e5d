import { strict as assert } from "node:assert";
import { generateKeyPair, ProtocolServer } from "../../protocol/index.js";
import { type Harness, startHarness } from "./link-harness.js";

describe("ProtocolServer", () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it("refuses an endpoint it cannot bind with E_PROTOCOL_LISTEN naming the endpoint", async () => {
    h = await startHarness();
    const taken = h.server.endpoint;
    await assert.rejects(
      ProtocolServer.listen({
        endpoint: taken,
        keyPair: generateKeyPair(),
        authorize: () => true,
        handle: async () => ({ type: "ack" }),
      }),
      (err: Error & { code?: string; endpoint?: string }) => {
        assert.equal(err.code, "E_PROTOCOL_LISTEN");
        assert.equal(err.endpoint, taken);
        assert.match(
          err.message,
          new RegExp(`^cannot listen for nodes on ${taken}: .*in use`, "i"),
        );
        return true;
      },
    );
  });
});
