import { MAX_ATTEMPTS } from "./slot-state.js";

export interface GrubScriptOptions {
  /** PARTUUIDs of the two rootfs slots (lower case, as GRUB's `probe` prints them). */
  partuuids: { a: string; b: string };
  /** How many partitions to look through for them on the disk GRUB was loaded from. */
  partitions: number;
  /** Kernel console, e.g. `ttyS0,115200`. */
  console: string;
  /** Serial unit and speed for GRUB's own terminal, when the console is a UART. */
  serial?: { unit: number; speed: number };
}

/**
 * The grub.cfg that chooses the A/B slot, as `nextBoot` in slot-state.ts models it:
 * the first slot in ORDER that is good, or on trial with attempts left (one is counted
 * down with save_env before booting it); if neither slot qualifies, the first one that
 * is not dirty, so the box never reboots forever. The slot's partition is found by
 * PARTUUID on the boot disk, the kernel and initrd are read from the slot itself, and
 * `panic=10` turns a kernel panic into a reboot that costs the trial an attempt.
 */
export function renderGrubScript(options: GrubScriptOptions): string {
  const countdown: string[] = [];
  for (let n = MAX_ATTEMPTS; n >= 1; n--) {
    countdown.push(`${n === MAX_ATTEMPTS ? "if" : "elif"} [ "$left" = ${n} ]; then next=${n - 1}`);
  }
  const parts = Array.from({ length: options.partitions }, (_, i) => i + 1).join(" ");
  const serial = options.serial
    ? [
        `serial --unit=${options.serial.unit} --speed=${options.serial.speed}`,
        "terminal_input serial console",
        "terminal_output serial console",
      ]
    : [];
  return `${[
    "# Outpost A/B slot selection; state in grubenv beside this file (outpost ota status).",
    "set timeout=0",
    ...serial,
    "set envfile=$prefix/grubenv",
    "load_env -f $envfile",
    "set chosen=",
    "for s in $ORDER; do",
    '  if [ -z "$chosen" ]; then',
    '    if [ "$s" = a ]; then st=$A_STATE; left=$A_LEFT; else st=$B_STATE; left=$B_LEFT; fi',
    '    if [ "$st" = good ]; then',
    "      chosen=$s",
    '    elif [ "$st" = trial ]; then',
    "      next=",
    `      ${countdown.join("\n      ")}`,
    "      fi",
    '      if [ -n "$next" ]; then',
    "        chosen=$s",
    '        if [ "$s" = a ]; then A_LEFT=$next; save_env -f $envfile A_LEFT; else B_LEFT=$next; save_env -f $envfile B_LEFT; fi',
    "      fi",
    "    fi",
    "  fi",
    "done",
    'if [ -z "$chosen" ]; then',
    "  for s in $ORDER; do",
    '    if [ "$s" = a ]; then st=$A_STATE; else st=$B_STATE; fi',
    '    if [ -z "$chosen" -a "$st" != dirty ]; then chosen=$s; fi',
    "  done",
    "fi",
    'if [ -z "$chosen" ]; then chosen=a; fi',
    `if [ "$chosen" = a ]; then uuid=${options.partuuids.a}; else uuid=${options.partuuids.b}; fi`,
    "regexp --set=1:disk '^([^,]+),' \"$root\"",
    "set slotdev=",
    `for n in ${parts}; do`,
    "  pu=",
    "  probe --set=pu --part-uuid ($disk,gpt$n)",
    '  if [ "$pu" = "$uuid" ]; then slotdev=($disk,gpt$n); fi',
    "done",
    'echo "outpost: slot $chosen ($uuid on $slotdev)"',
    `linux $slotdev/vmlinuz root=PARTUUID=$uuid rw rootwait console=${options.console} panic=10 outpost.slot=$chosen`,
    "initrd $slotdev/initrd.img",
    "boot",
  ].join("\n")}\n`;
}
