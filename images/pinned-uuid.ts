import { createHash } from "node:crypto";

/**
 * A UUID fixed by its inputs (sha256 of them, shaped as an RFC 9562 version-8 UUID), so
 * the same board and label always give the same disk GUID, PARTUUID and filesystem UUID.
 */
export function pinnedUuid(...parts: string[]): string {
  const h = createHash("sha256").update(parts.join("\0")).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x80;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
