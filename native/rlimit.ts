import { nativeAddon } from "./addon.js";

export const RLIMIT_NAMES = [
  "cpu",
  "fsize",
  "data",
  "stack",
  "core",
  "rss",
  "nproc",
  "nofile",
  "memlock",
  "as",
  "locks",
  "sigpending",
  "msgqueue",
  "nice",
  "rtprio",
  "rttime",
] as const;
export type RlimitName = (typeof RLIMIT_NAMES)[number];

/** Soft and hard limit; `Infinity` is RLIM_INFINITY. */
export interface Rlimit {
  soft: number;
  hard: number;
}

export function rlimitNumber(name: RlimitName): number {
  if (!RLIMIT_NAMES.includes(name))
    throw new TypeError(`unknown rlimit '${String(name)}' (one of ${RLIMIT_NAMES.join(", ")})`);
  return nativeAddon().rlimitConstants[name.toUpperCase()] as number;
}

function isLimit(v: unknown): v is number {
  return v === Number.POSITIVE_INFINITY || (typeof v === "number" && Number.isSafeInteger(v));
}

export function validateRlimit(name: RlimitName, limit: Rlimit): void {
  if (typeof limit !== "object" || limit === null || !isLimit(limit.soft) || !isLimit(limit.hard)) {
    throw new TypeError(`rlimit ${name} needs integer (or Infinity) soft and hard`);
  }
  if (limit.soft < 0 || limit.hard < 0) throw new RangeError(`rlimit ${name} must be >= 0`);
  if (limit.soft > limit.hard)
    throw new RangeError(`rlimit ${name}: soft ${limit.soft} exceeds hard ${limit.hard}`);
}

/** prlimit(2) read for any process. */
export function getRlimit(pid: number, name: RlimitName): Rlimit {
  if (!Number.isInteger(pid) || pid < 0)
    throw new RangeError(`pid must be a non-negative integer (got ${pid})`);
  return nativeAddon().getRlimit(pid, rlimitNumber(name));
}

/** prlimit(2) write for any process (raising a hard limit needs CAP_SYS_RESOURCE). */
export function setRlimit(pid: number, name: RlimitName, limit: Rlimit): void {
  if (!Number.isInteger(pid) || pid < 0)
    throw new RangeError(`pid must be a non-negative integer (got ${pid})`);
  const resource = rlimitNumber(name);
  validateRlimit(name, limit);
  nativeAddon().setRlimit(pid, resource, limit.soft, limit.hard);
}
