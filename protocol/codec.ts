import { Decoder, Encoder } from "cbor-x";
import { MessageDecodeError, MessageTooLargeError } from "./errors.js";
import type { MasterPush, MasterReply, NodeRequest } from "./messages.js";

// Plain CBOR only: no cbor-x record extensions (a peer on another implementation must
// be able to read us), byte strings untagged, maps as plain objects.
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

export function encodeMessage(message: NodeRequest | MasterReply | MasterPush): Buffer {
  return encoder.encode(message);
}

/**
 * One CBOR item, exactly filling `frame`. Size is checked before a byte is parsed;
 * anything cbor-x throws (truncation, trailing bytes, absurd lengths) becomes a
 * MessageDecodeError. The result is unvalidated: pass it to a validator.
 */
export function decodeFrame(frame: Uint8Array, maxBytes: number): unknown {
  if (frame.length > maxBytes) throw new MessageTooLargeError(frame.length, maxBytes);
  if (frame.length === 0) throw new MessageDecodeError("empty message frame");
  try {
    return decoder.decode(frame);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new MessageDecodeError(`message is not valid CBOR (${reason})`, { cause: err });
  }
}
