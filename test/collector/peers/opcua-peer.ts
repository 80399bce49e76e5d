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

const CASES_SERVER = join(repoRoot, "test", "collector", "peers", "opcua-cases-server.ts");

/**
 * A node-opcua server, in its own process, whose variables `ns=1;s=<case>` are the
 * cases of the quality table (see opcua-cases-server.ts), plus `Big` (a 1 MiB string,
 * or `bigBytes`) and `Counter`, which change every 100 ms.
 */
export function startOpcuaCasesPeer(options: {
  dataDir: string;
  bigBytes?: number;
}): Promise<Peer> {
  return startPeer(process.execPath, ["--import", "tsx", CASES_SERVER, JSON.stringify(options)], {
    timeoutMs: 60_000,
  });
}
