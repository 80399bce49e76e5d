import { CodedTypeError } from "../../common/errors.js";
import {
  AUDIT_ARCH,
  isKnownSyscall,
  type SeccompArch,
  syscallTable,
  X32_SYSCALL_BIT,
} from "./arch.js";

/**
 * What a filter refuses; everything else is allowed. Names are the kernel's. A name
 * that exists on another architecture only is skipped (it cannot be called here); one
 * that exists on none is an `UnknownSyscallError`.
 */
export interface SeccompPolicy {
  /** Fail with EPERM. */
  deny?: readonly string[];
  /** Fail with ENOSYS, so callers take their fallback (glibc: clone3 → clone). */
  enosys?: readonly string[];
  /** Fail with EPERM when the low 32 bits of argument `arg` (0-5) have any bit of `mask`. */
  denyFlags?: readonly { syscall: string; arg: number; mask: number }[];
}

/** A policy names a syscall no architecture has. */
export class UnknownSyscallError extends CodedTypeError {
  readonly code = "E_SECCOMP_SYSCALL";
  constructor(readonly syscall: string) {
    super(`unknown syscall '${syscall}'`);
  }
}

// include/uapi/linux/bpf_common.h, filter.h, seccomp.h
const BPF_LD_W_ABS = 0x00 | 0x00 | 0x20;
const BPF_JMP_JEQ_K = 0x05 | 0x10 | 0x00;
const BPF_JMP_JGE_K = 0x05 | 0x30 | 0x00;
const BPF_JMP_JSET_K = 0x05 | 0x40 | 0x00;
const BPF_RET_K = 0x06 | 0x00;
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
/** Errno values, the same on x86_64 and aarch64 (asm-generic/errno-base.h, errno.h). */
const EPERM = 1;
const ENOSYS = 38;
/** BPF_MAXINSNS: the kernel refuses longer programs (EINVAL). */
export const SECCOMP_MAX_INSTRUCTIONS = 4096;

// struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
const NR_OFFSET = 0;
const ARCH_OFFSET = 4;
/** The low 32 bits of args[i] (both architectures are little-endian). */
const argLowOffset = (i: number): number => 16 + 8 * i;

interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const stmt = (code: number, k: number): Instruction => ({ code, jt: 0, jf: 0, k });
const jump = (code: number, k: number, jt: number, jf: number): Instruction => ({
  code,
  jt,
  jf,
  k,
});

function numbersOf(names: readonly string[], table: Readonly<Record<string, number>>): number[] {
  const out: number[] = [];
  for (const name of names) {
    if (!isKnownSyscall(name)) throw new UnknownSyscallError(name);
    const nr = table[name];
    if (nr !== undefined && !out.includes(nr)) out.push(nr);
  }
  return out;
}

/**
 * The policy as a classic-BPF program for seccomp(SECCOMP_SET_MODE_FILTER) on `arch`,
 * as `struct sock_filter` bytes (little-endian, both architectures are). Pure.
 *
 * 1. A syscall of any other ABI kills the process (SIGSYS): an i386 `int 0x80`, an x32
 *    call (x86_64 `nr` with bit 30) or 32-bit compat would otherwise get past the
 *    number checks, which are this architecture's. libseccomp does the same by default.
 * 2. Each `deny`, then each `enosys` number: one compare and one return.
 * 3. Each `denyFlags` syscall: its argument's low word tested against the masks (merged
 *    per syscall and argument), then allowed.
 * 4. Everything else is allowed.
 */
export function buildSeccompFilter(policy: SeccompPolicy, arch: SeccompArch): Uint8Array {
  const table = syscallTable(arch);
  const deny = numbersOf(policy.deny ?? [], table);
  const enosys = numbersOf(policy.enosys ?? [], table).filter((nr) => !deny.includes(nr));
  const flags = new Map<string, { nr: number; arg: number; mask: number }>();
  for (const rule of policy.denyFlags ?? []) {
    if (!Number.isInteger(rule.arg) || rule.arg < 0 || rule.arg > 5)
      throw new RangeError(`denyFlags ${rule.syscall}: arg must be 0..5`);
    if (!Number.isInteger(rule.mask) || rule.mask <= 0 || rule.mask > 0xffffffff)
      throw new RangeError(`denyFlags ${rule.syscall}: mask must be a non-zero 32-bit value`);
    const [nr] = numbersOf([rule.syscall], table);
    if (nr === undefined || deny.includes(nr) || enosys.includes(nr)) continue;
    const key = `${nr}:${rule.arg}`;
    const seen = flags.get(key);
    flags.set(key, { nr, arg: rule.arg, mask: ((seen?.mask ?? 0) | rule.mask) >>> 0 });
  }

  const kill = stmt(BPF_RET_K, SECCOMP_RET_KILL_PROCESS);
  const program: Instruction[] = [
    stmt(BPF_LD_W_ABS, ARCH_OFFSET),
    jump(BPF_JMP_JEQ_K, AUDIT_ARCH[arch], 1, 0),
    kill,
    stmt(BPF_LD_W_ABS, NR_OFFSET),
  ];
  // nr -1 (a tracer skipping a call, a probe) is no x32 call: ENOSYS, as the kernel says.
  if (arch === "x86_64")
    program.push(
      jump(BPF_JMP_JEQ_K, 0xffffffff, 0, 1),
      stmt(BPF_RET_K, SECCOMP_RET_ERRNO | ENOSYS),
      jump(BPF_JMP_JGE_K, X32_SYSCALL_BIT, 0, 1),
      kill,
    );
  for (const nr of deny)
    program.push(jump(BPF_JMP_JEQ_K, nr, 0, 1), stmt(BPF_RET_K, SECCOMP_RET_ERRNO | EPERM));
  for (const nr of enosys)
    program.push(jump(BPF_JMP_JEQ_K, nr, 0, 1), stmt(BPF_RET_K, SECCOMP_RET_ERRNO | ENOSYS));
  // Several rules on one syscall: each ends in allow, so they are chained on the number
  // only once, testing every (arg, mask) of that syscall before the allow.
  const bySyscall = new Map<number, { arg: number; mask: number }[]>();
  for (const { nr, arg, mask } of flags.values())
    bySyscall.set(nr, [...(bySyscall.get(nr) ?? []), { arg, mask }]);
  for (const [nr, rules] of bySyscall) {
    // Another number skips the block (3 instructions per rule, then the allow) with the
    // number still in A for the next test.
    program.push(jump(BPF_JMP_JEQ_K, nr, 0, rules.length * 3 + 1));
    for (const { arg, mask } of rules)
      program.push(
        stmt(BPF_LD_W_ABS, argLowOffset(arg)),
        jump(BPF_JMP_JSET_K, mask, 0, 1),
        stmt(BPF_RET_K, SECCOMP_RET_ERRNO | EPERM),
      );
    program.push(stmt(BPF_RET_K, SECCOMP_RET_ALLOW));
  }
  program.push(stmt(BPF_RET_K, SECCOMP_RET_ALLOW));
  if (program.length > SECCOMP_MAX_INSTRUCTIONS)
    throw new RangeError(
      `the seccomp filter needs ${program.length} instructions, more than the kernel's ${SECCOMP_MAX_INSTRUCTIONS}`,
    );

  const bytes = new Uint8Array(program.length * 8);
  const view = new DataView(bytes.buffer);
  program.forEach((ins, i) => {
    view.setUint16(i * 8, ins.code, true);
    view.setUint8(i * 8 + 2, ins.jt);
    view.setUint8(i * 8 + 3, ins.jf);
    view.setUint32(i * 8 + 4, ins.k, true);
  });
  return bytes;
}
