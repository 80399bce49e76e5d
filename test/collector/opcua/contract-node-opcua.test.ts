import { startNodeOpcuaServer } from "../../helpers/node-opcua-server.js";
import { opcuaContract } from "./contract.js";

// node-opcua's own server, the library of the collector's client: test/fixtures/opcua/node-opcua-server.ts.
opcuaContract("node-opcua", startNodeOpcuaServer);
