import { nativeAddon } from "./addon.js";

export interface MlockAllOptions {
  /** Lock what is mapped now (MCL_CURRENT). */
  current?: boolean;
  /** Lock what gets mapped later (MCL_FUTURE). */
  future?: boolean;
  /** Lock pages as they are faulted in rather than at once (MCL_ONFAULT). */
  onFault?: boolean;
}

/**
 * mlockall(2) for the calling process. Locks do not survive execve: to have a spawned
 * program's memory locked, the program calls mlockall itself; spawn can only raise its
 * RLIMIT_MEMLOCK so that it may.
 */
export function mlockAll(options: MlockAllOptions = { current: true, future: true }): void {
  const c = nativeAddon().mlockConstants;
  if (!options.current && !options.future)
    throw new TypeError("mlockAll needs current and/or future");
  const flags =
    (options.current ? c.CURRENT : 0) |
    (options.future ? c.FUTURE : 0) |
    (options.onFault ? c.ONFAULT : 0);
  nativeAddon().mlockall(flags);
}

export function munlockAll(): void {
  nativeAddon().munlockall();
}
