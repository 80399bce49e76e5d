import { AgentError } from "../errors.js";

/**
 * What a partition's local API answers with when it refuses a request, by code (the
 * status table is LOCAL_API_STATUS, local-api.ts; codes in docs/errors.md).
 */

/** A request the API cannot take: its queue of telemetry requests is full. */
export class LocalApiBusyError extends AgentError {
  override readonly code = "E_AGENT_API_BUSY";
}

/** The master could not be reached (or the agent is stopping): try again later. */
export class RelayUnavailableError extends AgentError {
  override readonly code = "E_AGENT_RELAY_UNAVAILABLE";
}

/** The master answered the relayed request with an error (its code is in the message). */
export class RelayRefusedError extends AgentError {
  override readonly code = "E_AGENT_RELAY_REFUSED";
}

/** A request that contradicts itself (a sequence range running backwards). */
export class LocalApiInvalidError extends AgentError {
  override readonly code = "E_AGENT_API_INVALID";
}

/** The master refused a schema for good (too large, too deep, not its fingerprint's). */
export class RelaySchemaRefusedError extends AgentError {
  override readonly code = "E_AGENT_SCHEMA_REFUSED";
}
