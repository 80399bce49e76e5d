import { strict as assert } from "node:assert";
import type { Socket } from "node:net";
import { ModbusLine, type RunningTurbineSim, startTurbineSim } from "../../../collector/index.js";
import {
  type RawRequest,
  type RawServer,
  rawModbusServer,
  registers,
} from "../../fault/raw-modbus-server.js";
import { quietLogger } from "../fixtures.js";

describe("collector Modbus line", function () {
  this.timeout(20_000);

  describe("pipelining on TCP", () => {
    let server: RawServer;
    let maxPending = 0;
    const pending: { req: RawRequest; socket: Socket }[] = [];

    before(async () => {
      // Holds requests until four are outstanding, then answers them newest first; a
      // client that sends one at a time is still answered, 300 ms late.
      const flush = () => {
        for (const { req, socket } of pending.splice(0).reverse()) {
          socket.write(registers(req, req.address));
        }
      };
      server = await rawModbusServer((req, socket) => {
        pending.push({ req, socket });
        maxPending = Math.max(maxPending, pending.length);
        if (pending.length === 4) flush();
        else setTimeout(flush, 300);
      });
    });
    after(() => server.close());

    it("keeps `pipeline` requests in flight and matches replies that come back out of order by transaction id", async () => {
      const line = new ModbusLine(
        { kind: "tcp", host: "127.0.0.1", port: server.port },
        4,
        quietLogger,
      );
      try {
        const started = Date.now();
        const values = await Promise.all(
          Array.from({ length: 8 }, (_, i) => line.read(1, 3, 100 + i, 1, 2000, "plc")),
        );
        assert.deepEqual(
          values,
          Array.from({ length: 8 }, (_, i) => [100 + i]),
        );
        assert.equal(maxPending, 4);
        assert.deepEqual(line.counters, { requests: 8, timeouts: 0, reconnects: 0 });
        assert.ok(Date.now() - started < 250, "answered without waiting for the fallback");
      } finally {
        await line.close();
      }
    });
  });

  describe("writes (FC 5, 6, 15, 16) against the simulator's server", () => {
    let sim: RunningTurbineSim;
    let line: ModbusLine;

    before(async () => {
      sim = await startTurbineSim({ seed: 1, modbus: { host: "127.0.0.1", port: 0 } });
      line = new ModbusLine(
        { kind: "tcp", host: "127.0.0.1", port: sim.modbus?.port ?? 0 },
        1,
        quietLogger,
      );
    });
    after(async () => {
      await line.close();
      await sim.stop();
    });

    it("writes one and many coils and registers and reads them back", async () => {
      await line.write(1, 500, true, 1000, "plc");
      await line.write(1, 501, [false, true, true], 1000, "plc");
      await line.write(1, 600, 0xbeef, 1000, "plc");
      await line.write(1, 601, [1, 2, 65535], 1000, "plc");
      assert.deepEqual(await line.read(1, 1, 500, 4, 1000, "plc"), [true, false, true, true]);
      assert.deepEqual(await line.read(1, 3, 600, 4, 1000, "plc"), [0xbeef, 1, 2, 65535]);
      assert.equal(sim.image.holding[600], 0xbeef);
      assert.equal(sim.image.coils[503], 1);
    });
  });
});
