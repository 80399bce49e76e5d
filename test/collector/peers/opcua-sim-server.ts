/**
 * A node-opcua server (the turbine simulator's address space) in its own process, so a
 * test can kill it and start it again. argv[2]: JSON OpcuaSimOptions plus `seed`.
 * Prints {"port","endpoint"} once it serves.
 */
import { startTurbineSim } from "../../../collector/index.js";

const options = JSON.parse(process.argv[2] ?? "{}") as {
  seed?: number;
  extraTags?: number;
  port: number;
  dataDir: string;
};
const sim = await startTurbineSim({
  seed: options.seed ?? 1,
  opcua: options,
  extraTags: options.extraTags,
});
process.stdout.write(
  `${JSON.stringify({ port: sim.opcua?.port, endpoint: sim.opcua?.endpoint })}\n`,
);
process.on("SIGTERM", () => {
  void sim.stop().then(() => process.exit(0));
});
