import type { ModbusTag, RegisterKind } from "../config.js";
import { tagWidth } from "./register-layout.js";

/** One Modbus read request and the tags it serves, each at its offset in the reply. */
export interface ReadRequest {
  register: RegisterKind;
  /** Function code: 1 coils, 2 discrete inputs, 3 holding registers, 4 input registers. */
  functionCode: 1 | 2 | 3 | 4;
  address: number;
  count: number;
  tags: { tag: ModbusTag; offset: number; width: number }[];
}

export interface PlanOptions {
  coalesce: boolean;
  /** Largest hole (registers or bits) one request may read across to merge two tags. */
  maxGap: number;
  /** Per-request caps: 125 registers and 2000 bits are the Modbus limits. */
  maxRegisters: number;
  maxBits: number;
}

const FUNCTION: Record<RegisterKind, 1 | 2 | 3 | 4> = {
  coil: 1,
  discrete: 2,
  holding: 3,
  input: 4,
};
const ORDER: RegisterKind[] = ["coil", "discrete", "holding", "input"];

/**
 * Plans the reads for one poll of one unit. Pure: the same tags and options always give
 * the same requests. Tags of one register kind are sorted by address and merged while
 * the next tag starts at most `maxGap` past the end of the current request and the
 * request stays within its cap; overlapping tags share registers.
 */
export function planReads(tags: readonly ModbusTag[], options: PlanOptions): ReadRequest[] {
  const requests: ReadRequest[] = [];
  for (const register of ORDER) {
    const cap =
      register === "coil" || register === "discrete" ? options.maxBits : options.maxRegisters;
    const sorted = tags
      .filter((t) => t.register === register)
      .map((tag) => ({ tag, width: tagWidth(tag) }))
      .sort((a, b) => a.tag.address - b.tag.address || b.width - a.width);
    let current: ReadRequest | undefined;
    for (const { tag, width } of sorted) {
      const end = tag.address + width;
      const fits =
        current !== undefined &&
        options.coalesce &&
        tag.address <= current.address + current.count + options.maxGap &&
        Math.max(end, current.address + current.count) - current.address <= cap;
      if (current && fits) {
        current.count = Math.max(end, current.address + current.count) - current.address;
        current.tags.push({ tag, offset: tag.address - current.address, width });
      } else {
        current = {
          register,
          functionCode: FUNCTION[register],
          address: tag.address,
          count: width,
          tags: [{ tag, offset: 0, width }],
        };
        requests.push(current);
      }
    }
  }
  return requests;
}
