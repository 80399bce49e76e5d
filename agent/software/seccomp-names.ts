import { closest, distance } from "fastest-levenshtein";
import { isKnownSyscall, SYSCALL_NAMES } from "../../native/index.js";
import type { SoftwareDescriptor } from "./descriptor.js";

/**
 * Each name of `instance.seccomp.deny` that no architecture has, as a descriptor
 * problem with a did-you-mean hint: a typo must not leave a syscall the author meant to
 * deny allowed.
 */
export function seccompProblems(descriptor: SoftwareDescriptor): string[] {
  const deny = descriptor.instance?.seccomp?.deny ?? [];
  const out: string[] = [];
  deny.forEach((name, i) => {
    if (isKnownSyscall(name)) return;
    const near = closest(name, SYSCALL_NAMES as string[]);
    const hint = distance(name, near) <= 3 ? `; did you mean '${near}'?` : "";
    out.push(`instance.seccomp.deny.${i}: unknown syscall '${name}'${hint}`);
  });
  return out;
}
