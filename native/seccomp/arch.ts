import { AARCH64_SYSCALLS } from "./syscalls-aarch64.js";
import { X86_64_SYSCALLS } from "./syscalls-x86_64.js";

/** The architectures a filter can be built for: Outpost's hosts and gateways. */
export type SeccompArch = "x86_64" | "aarch64";

export const SECCOMP_ARCHES: readonly SeccompArch[] = ["x86_64", "aarch64"];

/**
 * `seccomp_data.arch` of each (include/uapi/linux/audit.h: EM_* | 64-bit | little
 * endian). A syscall made through another ABI (i386 `int 0x80` or x32 on x86_64, 32-bit
 * compat on aarch64) carries another value, or on x32 the same with bit 30 set in `nr`.
 */
export const AUDIT_ARCH: Readonly<Record<SeccompArch, number>> = {
  x86_64: 0xc000003e,
  aarch64: 0xc00000b7,
};

/** x32 syscalls are x86_64's with this bit set in `nr` (__X32_SYSCALL_BIT). */
export const X32_SYSCALL_BIT = 0x40000000;

const TABLES: Readonly<Record<SeccompArch, Readonly<Record<string, number>>>> = {
  x86_64: X86_64_SYSCALLS,
  aarch64: AARCH64_SYSCALLS,
};

/** Syscall numbers by name on `arch`. */
export function syscallTable(arch: SeccompArch): Readonly<Record<string, number>> {
  return TABLES[arch];
}

/** Every syscall name known on any of the architectures, sorted. */
export const SYSCALL_NAMES: readonly string[] = [
  ...new Set([...Object.keys(X86_64_SYSCALLS), ...Object.keys(AARCH64_SYSCALLS)]),
].sort();

const KNOWN = new Set(SYSCALL_NAMES);

/** Whether `name` is a syscall on at least one of the architectures. */
export function isKnownSyscall(name: string): boolean {
  return KNOWN.has(name);
}

/** The architecture this process runs on, as seccomp names it. */
export function hostSeccompArch(arch: string = process.arch): SeccompArch {
  if (arch === "x64") return "x86_64";
  if (arch === "arm64") return "aarch64";
  throw new RangeError(`no seccomp syscall table for architecture '${arch}'`);
}
