import { nativeAddon, type Uname } from "./addon.js";

/** uname(2): kernel release and version feed PREEMPT_RT detection and node registration. */
export function uname(): Uname {
  return nativeAddon().uname();
}
