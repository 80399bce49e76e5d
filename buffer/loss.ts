import type { Loss } from "../protocol/index.js";

/**
 * A loss event says which records of a stream will never arrive and why: protocol's
 * `Loss` (protocol/messages.ts), the one shape it has from here to the master. The buffer
 * keeps each one in its checkpoint until the sink has acknowledged it, so no loss goes
 * unreported, and the sequence gap it names is what the master also sees.
 */
export type LossEvent = Loss;
