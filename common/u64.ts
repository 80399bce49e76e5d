/**
 * Sequence numbers and chunk ids are u64 on disk and on the wire but plain numbers in
 * memory: 2^53 records outlast any gateway (285 years at a million records a second), and
 * numbers avoid a BigInt allocation per record on the append path.
 */
const TWO_32 = 0x1_0000_0000;

export function writeU64(buf: Buffer, value: number, offset: number): void {
  buf.writeUInt32LE(value >>> 0, offset);
  buf.writeUInt32LE(Math.floor(value / TWO_32), offset + 4);
}

export function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * TWO_32;
}
