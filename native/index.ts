import { loadAddon } from "./load-addon.js";

export { isNativeSystemError, NativeAddonMissingError, type NativeSystemError } from "./errors.js";

export interface Uname {
  sysname: string;
  nodename: string;
  release: string;
  version: string;
  machine: string;
}

interface Addon {
  uname(): Uname;
}

let addon: Addon | undefined;

/** Loaded on first use so commands that need no syscalls still run without a build. */
function native(): Addon {
  addon ??= loadAddon<Addon>();
  return addon;
}

/** uname(2): kernel release and version feed PREEMPT_RT detection and node registration. */
export function uname(): Uname {
  return native().uname();
}
