import { strict as assert } from "node:assert";
import { pino } from "pino";
import { EndpointRing, isFixed, parseEndpointList } from "../../protocol/endpoints.js";

const logger = pino({ level: "silent" });

describe("master endpoints: the list a node goes round", () => {
  it("parses a comma-separated list of IP, [IPv6] and DNS-name endpoints", () => {
    assert.deepEqual(
      parseEndpointList("tcp://10.0.0.1:5660, tcp://[fd00::1]:1,tcp://m.example:2"),
      [
        { text: "tcp://10.0.0.1:5660", host: "10.0.0.1", port: 5660 },
        { text: "tcp://[fd00::1]:1", host: "fd00::1", port: 1 },
        { text: "tcp://m.example:2", host: "m.example", port: 2 },
      ],
    );
  });

  it("says which endpoints are one fixed address: one IP, not a name, not several", () => {
    assert.equal(isFixed(parseEndpointList("tcp://10.0.0.1:1")), true);
    assert.equal(isFixed(parseEndpointList("tcp://[::1]:1")), true);
    assert.equal(isFixed(parseEndpointList("tcp://localhost:1")), false);
    assert.equal(isFixed(parseEndpointList("tcp://10.0.0.1:1,tcp://10.0.0.2:1")), false);
  });

  it("goes round from its start, each name replaced by its sorted addresses, resolved again on each move", async () => {
    const answers = [
      ["10.0.0.9", "10.0.0.3"],
      ["10.0.0.3", "fd00::7"],
    ];
    let asked = 0;
    const ring = new EndpointRing(
      parseEndpointList("tcp://10.0.0.1:1,tcp://masters.test:2"),
      0.5,
      async (host) => {
        assert.equal(host, "masters.test");
        return answers[Math.min(asked++, 1)] ?? [];
      },
      logger,
    );
    // [10.0.0.1:1, 10.0.0.3:2, 10.0.0.9:2]: 0.5 of 3 starts at the second.
    assert.equal(await ring.next(), "tcp://10.0.0.3:2");
    // Resolved again: [10.0.0.1:1, 10.0.0.3:2, [fd00::7]:2]; after 10.0.0.3:2 comes the IPv6 one.
    assert.equal(await ring.next("tcp://10.0.0.3:2"), "tcp://[fd00::7]:2");
    assert.equal(await ring.next("tcp://[fd00::7]:2"), "tcp://10.0.0.1:1");
    // An endpoint gone from the answers: the ring goes on from where it was.
    assert.equal(await ring.next("tcp://10.0.0.9:2"), "tcp://10.0.0.3:2");
    assert.equal(asked, 4);
  });

  it("keeps a name that does not resolve as it is, for ZeroMQ to try", async () => {
    const ring = new EndpointRing(
      parseEndpointList("tcp://gone.test:5660"),
      0,
      async () => {
        throw Object.assign(new Error("getaddrinfo ENOTFOUND gone.test"), { code: "ENOTFOUND" });
      },
      logger,
    );
    assert.equal(await ring.next(), "tcp://gone.test:5660");
    assert.equal(await ring.next("tcp://gone.test:5660"), "tcp://gone.test:5660");
  });
});
