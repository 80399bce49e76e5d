import type { RegisterCommand } from "../program.js";

/** A top-level command, loaded only when the command line names it (or asks for help). */
export interface CommandModule {
  name: string;
  load(): Promise<RegisterCommand>;
}

/**
 * Every command the `outpost` binary registers; each component adds its own here. Modules
 * load lazily so one command never pays for another's dependencies (start-up time, and the
 * resident memory of long-running commands such as `agent start`).
 */
export const commands: readonly CommandModule[] = [
  { name: "exec", load: async () => (await import("./exec.js")).registerExec },
  { name: "rt", load: async () => (await import("./rt.js")).registerRt },
  { name: "buffer", load: async () => (await import("./buffer.js")).registerBuffer },
  { name: "collector", load: async () => (await import("./collector.js")).registerCollector },
  { name: "sim", load: async () => (await import("./sim.js")).registerSim },
  { name: "master", load: async () => (await import("./master.js")).registerMaster },
  { name: "node", load: async () => (await import("./node.js")).registerNode },
  { name: "release", load: async () => (await import("./release.js")).registerRelease },
  { name: "supply", load: async () => (await import("./supply.js")).registerSupply },
  { name: "request", load: async () => (await import("./request.js")).registerRequest },
  { name: "show", load: async () => (await import("./show.js")).registerShow },
  { name: "destroy", load: async () => (await import("./destroy.js")).registerDestroy },
  { name: "telemetry", load: async () => (await import("./telemetry.js")).registerTelemetry },
  { name: "agent", load: async () => (await import("./agent.js")).registerAgent },
  { name: "image", load: async () => (await import("./image.js")).registerImage },
  { name: "ota", load: async () => (await import("./ota.js")).registerOta },
  { name: "demo", load: async () => (await import("./demo.js")).registerDemo },
];
