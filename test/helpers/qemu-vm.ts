import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, copyFileSync } from "node:fs";

export interface QemuVmOptions {
  /** The disk image (raw), written in place as a board's storage. */
  disk: string;
  /** UEFI firmware code and a writable copy of its variable store. */
  firmware: { code: string; vars: string };
  /** Extra raw disks, read-only (a USB stick with an update, say). */
  extraDisks?: string[];
  /** Serial console transcript. */
  log: string;
  memoryMiB?: number;
}

/**
 * One qemu-system-x86_64 machine (q35, software emulation: the KVM these machines
 * offer is nested and fails on OVMF) whose serial console is this process's pipe: the test reads what the
 * firmware, GRUB, the kernel and systemd print and types commands at the root shell
 * an autologin image offers. A reboot inside the guest stays in the same process.
 */
export class QemuVm {
  private output = "";
  private seq = 0;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(readonly options: QemuVmOptions) {
    const args = [
      ...["-machine", "q35", "-accel", "tcg,thread=multi", "-cpu", "max", "-smp", "2"],
      ...["-m", String(options.memoryMiB ?? 1536), "-display", "none", "-serial", "stdio"],
      ...["-drive", `if=pflash,format=raw,unit=0,readonly=on,file=${options.firmware.code}`],
      ...["-drive", `if=pflash,format=raw,unit=1,file=${options.firmware.vars}`],
      ...["-drive", `file=${options.disk},if=virtio,format=raw,cache=unsafe`],
      ...(options.extraDisks ?? []).flatMap((d) => [
        "-drive",
        `file=${d},if=virtio,format=raw,readonly=on`,
      ]),
      ...["-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0"],
    ];
    this.child = spawn("qemu-system-x86_64", args, { stdio: ["pipe", "pipe", "pipe"] });
    const take = (b: Buffer) => {
      const text = b.toString("utf8");
      this.output += text;
      appendFileSync(options.log, text);
    };
    this.child.stdout?.on("data", take);
    this.child.stderr?.on("data", take);
    this.exited = new Promise((r) => this.child.once("exit", (code) => r(code)));
  }

  /** A fresh copy of the firmware's variable store (its boot entries start empty). */
  static freshVars(template: string, copy: string): string {
    copyFileSync(template, copy);
    return copy;
  }

  /** Console text since `from` (an offset from `mark()`). */
  since(from: number): string {
    return this.output.slice(from);
  }

  mark(): number {
    return this.output.length;
  }

  /** Resolves with the match once the console shows `pattern` after `from`. */
  async waitFor(pattern: RegExp, timeoutMs: number, from = 0): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.output.slice(from).match(pattern);
      if (m) return m;
      if (this.child.exitCode !== null)
        throw new Error(`qemu exited (${this.child.exitCode}) before ${pattern}`);
      if (Date.now() > deadline) {
        throw new Error(
          `no ${pattern} on the console within ${timeoutMs} ms; last: ${this.output.slice(-1500)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * Types a command at the root shell; resolves with what it printed (between markers
   * the typed line itself does not contain) and its exit status.
   */
  async run(command: string, timeoutMs = 60_000): Promise<{ status: number; output: string }> {
    const n = ++this.seq;
    const from = this.mark();
    this.child.stdin?.write(
      `printf '@@%s@@\\n' out-${n}; ${command}; printf '@@%s-%s@@\\n' done-${n} $?\n`,
    );
    const m = await this.waitFor(
      new RegExp(`@@out-${n}@@\\r?\\n([\\s\\S]*?)@@done-${n}-(\\d+)@@`),
      timeoutMs,
      from,
    );
    return { status: Number(m[2]), output: (m[1] ?? "").replaceAll("\r", "") };
  }

  /** Pulls the plug: no shutdown, no sync. */
  async powerOff(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
    await this.exited;
  }
}
