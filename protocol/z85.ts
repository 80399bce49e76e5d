import { KeyFormatError } from "./errors.js";

/**
 * Z85 (ZeroMQ RFC 32), the text form of CURVE keys: 4 bytes become 5 printable
 * characters. zeromq.js prints keys in Z85 but does not export the codec, and the ZAP
 * handler receives raw 32-byte keys, so both directions are needed here.
 */
const ALPHABET =
  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

export function z85Encode(data: Uint8Array): string {
  if (data.length % 4 !== 0)
    throw new KeyFormatError(`Z85 input length ${data.length} is not a multiple of 4`);
  let out = "";
  for (let i = 0; i < data.length; i += 4) {
    let value =
      (data[i] ?? 0) * 0x1000000 +
      ((data[i + 1] ?? 0) << 16) +
      ((data[i + 2] ?? 0) << 8) +
      (data[i + 3] ?? 0);
    const group = new Array<string>(5);
    for (let j = 4; j >= 0; j--) {
      group[j] = ALPHABET[value % 85] ?? "";
      value = Math.floor(value / 85);
    }
    out += group.join("");
  }
  return out;
}

export function z85Decode(text: string): Buffer {
  if (text.length % 5 !== 0)
    throw new KeyFormatError(`Z85 text length ${text.length} is not a multiple of 5`);
  const out = Buffer.alloc((text.length / 5) * 4);
  for (let i = 0; i < text.length; i += 5) {
    let value = 0;
    for (let j = 0; j < 5; j++) {
      const code = text.charCodeAt(i + j);
      const digit = code < 128 ? (DECODE[code] ?? -1) : -1;
      if (digit < 0)
        throw new KeyFormatError(`'${text[i + j]}' at position ${i + j} is not a Z85 character`);
      value = value * 85 + digit;
    }
    if (value > 0xffffffff)
      throw new KeyFormatError(`Z85 group at position ${i} overflows 32 bits`);
    out.writeUInt32BE(value, (i / 5) * 4);
  }
  return out;
}
