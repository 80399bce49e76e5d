import type { ModbusTag, ModbusType } from "../config.js";

const REGISTERS: Record<Exclude<ModbusType, "string" | "bool">, number> = {
  int16: 1,
  uint16: 1,
  int32: 2,
  uint32: 2,
  float32: 2,
  int64: 4,
  uint64: 4,
  float64: 4,
};

/** How many registers (or bits, for coils and discrete inputs) a tag occupies. */
export function tagWidth(tag: Pick<ModbusTag, "type" | "length">): number {
  if (tag.type === "bool") return 1;
  if (tag.type === "string") return tag.length ?? 1;
  return REGISTERS[tag.type];
}
