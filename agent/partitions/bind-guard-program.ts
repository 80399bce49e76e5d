import { endianness } from "node:os";

/**
 * The cgroup bind hooks that keep a partition on its own address, as raw eBPF
 * (no compiler on the box, and 20 instructions do not need one). The context is
 * `struct bpf_sock_addr`; a hook returns 1 to let bind(2) go on, 0 to fail it with EPERM.
 *
 * - bind4: the partition's address passes; 0.0.0.0 is rewritten to it (a program that
 *   listens "everywhere" lands on its own address); anything else is refused.
 * - bind6: `::` is rewritten to `::ffff:<address>` (Node's default `listen(port)` is a
 *   dual-stack `::`), that mapped address passes, anything else is refused: a partition
 *   has no IPv6 address of its own, and `::1` is shared by the whole box.
 */

const USER_IP4 = 4;
const USER_IP6 = 8;

type Reg = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;
type Insn =
  | { op: number; dst: Reg; src: Reg; off: number; imm: number }
  | { jump: number; dst: Reg; src: Reg; imm: number; to: string }
  | { label: string };

const MOV64_X = 0xbf;
const MOV32_K = 0xb4;
const MOV64_K = 0xb7;
const OR64_X = 0x4f;
const LDX_W = 0x61;
const STX_W = 0x63;
const JA = 0x05;
const JEQ_X = 0x1d;
const JNE_K = 0x55;
const JNE_X = 0x5d;
const EXIT = 0x95;

const mov = (dst: Reg, src: Reg): Insn => ({ op: MOV64_X, dst, src, off: 0, imm: 0 });
const mov32 = (dst: Reg, imm: number): Insn => ({ op: MOV32_K, dst, src: 0, off: 0, imm });
const load = (dst: Reg, src: Reg, off: number): Insn => ({ op: LDX_W, dst, src, off, imm: 0 });
const store = (dst: Reg, off: number, src: Reg): Insn => ({ op: STX_W, dst, src, off, imm: 0 });
const ret = (value: 0 | 1): Insn[] => [
  { op: MOV64_K, dst: 0, src: 0, off: 0, imm: value },
  { op: EXIT, dst: 0, src: 0, off: 0, imm: 0 },
];
const jump = (op: number, dst: Reg, src: Reg, to: string, imm = 0): Insn => ({
  jump: op,
  dst,
  src,
  imm,
  to,
});

/** Four address bytes (network order) as the u32 a 32-bit load of them gives here. */
function loadedWord(bytes: readonly number[]): number {
  const b = Buffer.from(bytes);
  return (endianness() === "LE" ? b.readInt32LE(0) : b.readInt32BE(0)) | 0;
}

function ipv4Bytes(address: string): number[] {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 255))
    throw new TypeError(`'${address}' is not an IPv4 address`);
  return parts;
}

function assemble(program: readonly Insn[]): Buffer {
  const at = new Map<string, number>();
  let n = 0;
  for (const insn of program) {
    if ("label" in insn) at.set(insn.label, n);
    else n++;
  }
  const out = Buffer.alloc(n * 8);
  let i = 0;
  for (const insn of program) {
    if ("label" in insn) continue;
    let op: number;
    let off: number;
    if ("jump" in insn) {
      const target = at.get(insn.to);
      if (target === undefined) throw new Error(`no label ${insn.to}`);
      op = insn.jump;
      off = target - (i + 1);
    } else {
      op = insn.op;
      off = insn.off;
    }
    out.writeUInt8(op, i * 8);
    out.writeUInt8((insn.src << 4) | insn.dst, i * 8 + 1);
    out.writeInt16LE(off, i * 8 + 2);
    out.writeInt32LE(insn.imm, i * 8 + 4);
    i++;
  }
  return out;
}

/** The bind4 hook for a partition whose address is `address`. */
export function bind4Guard(address: string): Buffer {
  const own = loadedWord(ipv4Bytes(address));
  return assemble([
    mov(6, 1),
    load(2, 6, USER_IP4),
    mov32(3, own),
    jump(JEQ_X, 2, 3, "allow"),
    jump(JNE_K, 2, 0, "deny"),
    store(6, USER_IP4, 3),
    { label: "allow" },
    ...ret(1),
    { label: "deny" },
    ...ret(0),
  ]);
}

/** The bind6 hook for a partition whose address is `address` (IPv4, used v4-mapped). */
export function bind6Guard(address: string): Buffer {
  const own = loadedWord(ipv4Bytes(address));
  const mapped = loadedWord([0, 0, 0xff, 0xff]);
  return assemble([
    mov(6, 1),
    load(2, 6, USER_IP6),
    load(3, 6, USER_IP6 + 4),
    { op: OR64_X, dst: 2, src: 3, off: 0, imm: 0 },
    jump(JNE_K, 2, 0, "deny"),
    load(3, 6, USER_IP6 + 8),
    load(4, 6, USER_IP6 + 12),
    mov32(5, mapped),
    mov32(7, own),
    jump(JNE_K, 3, 0, "mapped"),
    jump(JNE_K, 4, 0, "deny"),
    store(6, USER_IP6 + 8, 5),
    store(6, USER_IP6 + 12, 7),
    jump(JA, 0, 0, "allow"),
    { label: "mapped" },
    jump(JNE_X, 3, 5, "deny"),
    jump(JNE_X, 4, 7, "deny"),
    { label: "allow" },
    ...ret(1),
    { label: "deny" },
    ...ret(0),
  ]);
}
