import { startOpen62541Server } from "../../helpers/open62541-server.js";
import { opcuaContract } from "./contract.js";

// open62541 (C), the implementation most PLC and gateway vendors embed: the server program
// in test/fixtures/opcua/open62541-server.c, built with ../shared/peers/open62541/build.
opcuaContract("open62541", startOpen62541Server);
