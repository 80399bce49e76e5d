import { join } from "node:path";
import { repoRoot } from "../../helpers/run-outpost.js";
import { type Peer, startPeer } from "./peer-process.js";

const SERVER = join(repoRoot, "test", "collector", "peers", "opcua-sim-server.ts");

/**
 * The turbine simulator's node-opcua server in a process of its own, so that a test can
 * kill it and start it again. `options`: OpcuaSimOptions (port, dataDir, omit, users, …).
 */
export function startOpcuaPeer(options: object): Promise<Peer> {
  return startPeer(process.execPath, ["--import", "tsx", SERVER, JSON.stringify(options)], {
    timeoutMs: 60_000,
  });
}
