import { crc32c as nativeCrc32c } from "@node-rs/crc32";

/**
 * CRC32C (Castagnoli) of `buf[start, end)`. Record frames are mostly small (a telemetry
 * record is ~100 bytes), and for those the N-API call plus the `subarray` it needs cost
 * more than the checksum itself: measured on the build box, slicing-by-8 in JS takes
 * ~60 ns for 64 bytes and ~110 ns for 128 against ~155 ns for the native call, which
 * overtakes JS near 200 bytes and is 4× faster at 1 KiB (hardware CRC instruction).
 * So short ranges are summed here and long ones go to `@node-rs/crc32`; both give the
 * same value, so the on-disk format does not depend on which one ran.
 */
export function crc32cRange(buf: Uint8Array, start: number, end: number): number {
  if (end - start > JS_MAX_BYTES) return nativeCrc32c(buf.subarray(start, end));
  return sliceBy8(buf, start, end);
}

/** Above this many bytes the native call is faster. */
export const JS_MAX_BYTES = 192;

/** Reflected CRC32C polynomial. */
const POLY = 0x82f63b78;

/** Table k holds the CRC of byte n followed by k zero bytes (slicing-by-8). */
const TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n] as number;
    for (let k = 1; k < 8; k++) {
      c = (t[c & 0xff] as number) ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

function sliceBy8(buf: Uint8Array, start: number, end: number): number {
  const t = TABLES;
  let c = -1;
  let i = start;
  const end8 = start + ((end - start) & ~7);
  // Indexes stay inside the buffer and the tables, so the `as number`s hold.
  for (; i < end8; i += 8) {
    const a =
      c ^
      ((buf[i] as number) |
        ((buf[i + 1] as number) << 8) |
        ((buf[i + 2] as number) << 16) |
        ((buf[i + 3] as number) << 24));
    const b =
      (buf[i + 4] as number) |
      ((buf[i + 5] as number) << 8) |
      ((buf[i + 6] as number) << 16) |
      ((buf[i + 7] as number) << 24);
    c =
      (t[1792 + (a & 0xff)] as number) ^
      (t[1536 + ((a >>> 8) & 0xff)] as number) ^
      (t[1280 + ((a >>> 16) & 0xff)] as number) ^
      (t[1024 + (a >>> 24)] as number) ^
      (t[768 + (b & 0xff)] as number) ^
      (t[512 + ((b >>> 8) & 0xff)] as number) ^
      (t[256 + ((b >>> 16) & 0xff)] as number) ^
      (t[b >>> 24] as number);
  }
  for (; i < end; i++) c = (t[(c ^ (buf[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
