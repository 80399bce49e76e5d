import type { OPCUAServer } from "node-opcua";
import { ModbusTcpServer } from "./modbus-tcp-server.js";
import type { OpcuaSimOptions } from "./opcua-server.js";
import { RegisterImage } from "./register-image.js";
import { TurbineModel } from "./turbine-model.js";

export interface TurbineSimOptions {
  seed: number;
  /** Serve Modbus TCP here (`port` 0 picks a free port). */
  modbus?: { host: string; port: number };
  /** Serve OPC-UA here (`port` 0 picks a free port). */
  opcua?: Omit<OpcuaSimOptions, "extraTags">;
  /** Extra changing registers/variables for benchmarks. */
  extraTags?: number;
  stepMs?: number;
}

export interface RunningTurbineSim {
  model: TurbineModel;
  image: RegisterImage;
  modbus?: { host: string; port: number; server: ModbusTcpServer };
  opcua?: { port: number; endpoint: string; server: OPCUAServer };
  stop(): Promise<void>;
}

/** A wind turbine served over Modbus TCP and/or OPC-UA, stepping every `stepMs`. */
export async function startTurbineSim(options: TurbineSimOptions): Promise<RunningTurbineSim> {
  const stepMs = options.stepMs ?? 100;
  const model = new TurbineModel(options.seed, stepMs);
  const image = new RegisterImage(options.extraTags ?? 0);
  image.update(model.state);
  const timer = setInterval(() => image.update(model.step()), stepMs);
  const sim: RunningTurbineSim = {
    model,
    image,
    async stop() {
      clearInterval(timer);
      await sim.modbus?.server.close();
      await sim.opcua?.server.shutdown(0);
    },
  };
  try {
    if (options.modbus) {
      const server = new ModbusTcpServer(image);
      const bound = await server.listen(options.modbus.port, options.modbus.host);
      sim.modbus = { ...bound, server };
    }
    if (options.opcua) {
      // node-opcua's server is loaded only when OPC-UA is served.
      const { startOpcuaSim } = await import("./opcua-server.js");
      const o = await startOpcuaSim(() => model.state, {
        ...options.opcua,
        extraTags: options.extraTags,
      });
      sim.opcua = o;
    }
  } catch (err) {
    await sim.stop();
    throw err;
  }
  return sim;
}
