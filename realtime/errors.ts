import { CodedError } from "../common/errors.js";

/** The base of realtime's errors, each with a stable `code` (docs/errors.md). */
export abstract class RealtimeError extends CodedError {}
